// Prints the server's AppRouter as a standalone declaration: each procedure's JSON input and output.
// Kept because tsc's own emit of AppRouter imports server/ (context, db, provider), which consumers
// lack; test/client/package.test.ts type-checks a consumer against the output.
import ts from 'typescript';

const HEADER = `// Generated from server/trpc/router.ts by client/build/build.ts: the procedures' wire types only.
import type { TRPCBuiltRouter, TRPCMutationProcedure, TRPCQueryProcedure, TRPCSubscriptionProcedure } from '@trpc/server';
`;

const PROCEDURE_TYPES = { query: 'TRPCQueryProcedure', mutation: 'TRPCMutationProcedure', subscription: 'TRPCSubscriptionProcedure' } as const;

/** The declaration text for `export type AppRouter`, read from the type `exportName` of `file`. */
export function declareRouter(program: ts.Program, file: string, exportName = 'AppRouter'): string {
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  if (!source) throw new Error(`${file} is not part of the program`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  const exported = moduleSymbol && checker.getExportsOfModule(moduleSymbol).find((s) => s.name === exportName);
  if (!exported) throw new Error(`${file} exports no ${exportName}`);
  const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const router = checker.getDeclaredTypeOfSymbol(symbol);

  const printer = createJsonTypePrinter(checker);
  const at = (type: ts.Type, ...path: string[]): ts.Type => {
    let current = type;
    for (const name of path) {
      const property = checker.getPropertyOfType(current, name);
      if (!property) throw new Error(`${exportName}: no ${path.join('.')} (is it a tRPC router?)`);
      current = checker.getTypeOfSymbol(property);
    }
    return current;
  };

  function record(type: ts.Type, indent: string): string {
    const lines = checker.getPropertiesOfType(type).map((property) => {
      const value = checker.getTypeOfSymbol(property);
      const key = propertyKey(property.name);
      if (!checker.getPropertyOfType(value, '_def')) return `${indent}  ${key}: ${record(value, `${indent}  `)};`;
      const kind = literalValue(at(value, '_def', 'type'));
      if (kind !== 'query' && kind !== 'mutation' && kind !== 'subscription') throw new Error(`${exportName}.${property.name}: unknown procedure type`);
      const input = printer(at(value, '_def', '$types', 'input'), `${property.name} input`);
      const output = printer(at(value, '_def', '$types', 'output'), `${property.name} output`);
      return `${indent}  ${key}: ${PROCEDURE_TYPES[kind]}<{ input: ${input}; output: ${output}; meta: object }>;`;
    });
    return `{\n${lines.join('\n')}\n${indent}}`;
  }

  const rootTypes = at(router, '_def', '_config', '$types');
  if (checker.typeToString(at(rootTypes, 'transformer')) !== 'false') {
    throw new Error(`${exportName} uses a transformer; the client speaks plain JSON`);
  }
  const errorShape = printer(at(rootTypes, 'errorShape'), 'error shape');
  return `${HEADER}
export type AppRouter = TRPCBuiltRouter<
  { ctx: object; meta: object; errorShape: ${errorShape}; transformer: false },
  ${record(at(router, '_def', 'record'), '  ')}
>;
`;
}

function literalValue(type: ts.Type): unknown {
  return type.isLiteral() ? type.value : undefined;
}

function propertyKey(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name);
}

const KEYWORDS = ts.TypeFlags.String | ts.TypeFlags.Number | ts.TypeFlags.Boolean | ts.TypeFlags.BigInt | ts.TypeFlags.Null | ts.TypeFlags.Undefined | ts.TypeFlags.Void | ts.TypeFlags.Never | ts.TypeFlags.Unknown | ts.TypeFlags.Any | ts.TypeFlags.BooleanLiteral | ts.TypeFlags.BigIntLiteral | ts.TypeFlags.TemplateLiteral;

/** Wraps a union or intersection before it is used as an array element. */
const group = (text: string) => (/[|&]/.test(text) ? `(${text})` : text);

/**
 * Prints a type structurally, with no reference to any named declaration outside TypeScript's own
 * lib (so `Date` stays `Date`, and tRPC serialises it as it would for the server's type). Anything
 * that cannot cross the wire as JSON (functions, classes, symbols, recursion) stops the build.
 */
function createJsonTypePrinter(checker: ts.TypeChecker) {
  // Named interfaces and classes of the lib (Date, Map...); its mapped aliases (Record, Partial)
  // are printed structurally like any other type.
  const inLib = (type: ts.Type): boolean =>
    Boolean(type.symbol && type.symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.Class)) &&
    (type.symbol.declarations ?? []).some((d) => /[\\/]typescript[\\/]lib[\\/]lib\.[^\\/]*\.d\.ts$/.test(d.getSourceFile().fileName));

  return function print(type: ts.Type, where: string, seen: ts.Type[] = []): string {
    // Enum members print by value, not as a reference to the enum.
    if (type.isStringLiteral()) return JSON.stringify(type.value);
    if (type.isNumberLiteral()) return String(type.value);
    if (type.flags & KEYWORDS) return checker.typeToString(type);
    if (seen.includes(type)) throw new Error(`${where}: recursive types are not supported`);
    const inner = [...seen, type];
    if (type.isUnion()) {
      const parts = type.types.map((t) => print(t, where, inner));
      // TypeScript splits `boolean` into `false | true` inside larger unions; join them back.
      const hasBoolean = parts.includes('false') && parts.includes('true');
      const merged = hasBoolean ? [...parts.filter((p) => p !== 'false' && p !== 'true'), 'boolean'] : parts;
      return merged.join(' | ');
    }
    if (type.isIntersection()) return type.types.map((t) => group(print(t, where, inner))).join(' & ');
    if (checker.isTupleType(type)) {
      const elements = checker.getTypeArguments(type as ts.TypeReference).map((t) => print(t, where, inner));
      return `[${elements.join(', ')}]`;
    }
    if (checker.isArrayType(type)) {
      const [element] = checker.getTypeArguments(type as ts.TypeReference);
      const readonly = type.symbol?.name === 'ReadonlyArray' ? 'readonly ' : '';
      return `${readonly}${group(print(element as ts.Type, where, inner))}[]`;
    }
    if (!(type.flags & ts.TypeFlags.Object)) throw new Error(`${where}: cannot print ${checker.typeToString(type)}`);
    if (inLib(type)) {
      if (type.symbol.name === 'Date') return 'Date';
      throw new Error(`${where}: ${checker.typeToString(type)} does not cross the wire as JSON`);
    }
    if (type.getCallSignatures().length > 0 || type.getConstructSignatures().length > 0) {
      throw new Error(`${where}: functions do not cross the wire`);
    }
    const members: string[] = [];
    for (const info of checker.getIndexInfosOfType(type)) {
      members.push(`[key: ${checker.typeToString(info.keyType)}]: ${print(info.type, where, inner)}`);
    }
    for (const property of checker.getPropertiesOfType(type)) {
      const optional = property.flags & ts.SymbolFlags.Optional ? '?' : '';
      members.push(`${propertyKey(property.name)}${optional}: ${print(checker.getTypeOfSymbol(property), `${where}.${property.name}`, inner)}`);
    }
    return members.length === 0 ? '{}' : `{ ${members.join('; ')} }`;
  };
}
