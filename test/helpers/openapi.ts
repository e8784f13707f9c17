// The REST mirror as a client in another language meets it: plain HTTP, checked against the
// service's own OpenAPI document. The document must be valid OpenAPI 3.1, and every answer must be
// one the document describes: a documented status (or `default`), JSON, a body that matches the
// schema, and the documented headers.
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import { TEST_META } from './server.ts';

// Loose types on purpose: the test reads whatever the service wrote.
interface Operation {
  responses: Record<string, { headers?: Record<string, { schema: object }>; content?: Record<string, unknown> }>;
  security?: unknown[];
}
export interface OpenApiDocument {
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

export interface RestAnswer {
  status: number;
  headers: Headers;
  body: any;
}

export interface RestClient {
  document: OpenApiDocument;
  /** Calls `METHOD /api{path}` and checks the answer against the document before returning it. */
  call(method: string, path: string, options?: { body?: unknown; token?: string; headers?: Record<string, string> }): Promise<RestAnswer>;
  /** Checks an answer obtained otherwise (odd bodies, chunked uploads). */
  check(method: string, path: string, answer: RestAnswer): void;
}

// ajv-formats is CommonJS: at run time its module object is the plugin itself.
const addFormats = ajvFormats as unknown as typeof ajvFormats.default;

const DOCUMENT_ID = 'https://gatehouse.test/openapi.json';

const pointer = (...tokens: string[]) => tokens.map((t) => encodeURIComponent(t.replaceAll('~', '~0').replaceAll('/', '~1'))).join('/');

/** Reads and validates `${url}/api/openapi.json` and returns a client that checks every answer. */
export async function restClient(url: string): Promise<RestClient> {
  const response = await fetch(`${url}/api/openapi.json`);
  if (response.status !== 200) throw new Error(`GET /api/openapi.json: ${response.status}`);
  const document = (await response.json()) as OpenApiDocument;
  const verdict = await new Validator().validate(document as never);
  if (!verdict.valid) throw new Error(`not a valid OpenAPI document: ${JSON.stringify(verdict.errors, null, 2)}`);

  // OpenAPI 3.1 schemas are JSON Schema 2020-12; the document's other keys are not keywords.
  const ajv = new Ajv2020({ allErrors: true, strict: false, validateSchema: false });
  addFormats(ajv);
  ajv.addSchema(document, DOCUMENT_ID);
  const compiled = new Map<string, ValidateFunction>();
  const validator = (ref: string) => {
    if (!compiled.has(ref)) compiled.set(ref, ajv.compile({ $ref: `${DOCUMENT_ID}#/${ref}` }));
    return compiled.get(ref)!;
  };

  const base = new URL(document.servers[0]!.url).pathname.replace(/\/$/, '');
  const routes = Object.keys(document.paths).map((template) => ({
    template,
    pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
  }));

  function check(method: string, path: string, answer: RestAnswer): void {
    const where = `${method} ${path} → ${answer.status} ${JSON.stringify(answer.body)}`;
    const relative = new URL(path, 'http://x').pathname;
    const route = routes.find((r) => r.pattern.test(relative));
    const operation = route && document.paths[route.template]![method.toLowerCase()];
    const key = operation ? (String(answer.status) in operation.responses ? String(answer.status) : 'default') : undefined;
    // Paths the document does not know still answer in the error shape, like `default`.
    const ref = operation ? pointer('paths', route.template, method.toLowerCase(), 'responses', key!) : pointer('components', 'schemas', 'Error');
    const described = operation?.responses[key!];
    if (operation && !described) throw new Error(`${where}: status not in the document`);
    if (!operation && answer.status < 400) throw new Error(`${where}: no such operation in the document`);
    if (!described || described.content) {
      if (!answer.headers.get('content-type')?.startsWith('application/json')) throw new Error(`${where}: not JSON`);
      const validate = validator(described ? `${ref}/content/${pointer('application/json')}/schema` : ref);
      if (!validate(answer.body)) throw new Error(`${where}: does not match the document: ${ajv.errorsText(validate.errors)}`);
    }
    for (const [name, header] of Object.entries(described?.headers ?? {})) {
      const value = answer.headers.get(name);
      const validate = ajv.compile(header.schema);
      if (value === null || !validate(Number.isNaN(Number(value)) ? value : Number(value))) throw new Error(`${where}: header ${name} is ${value}`);
    }
  }

  return {
    document,
    check,
    async call(method, path, { body, token, headers = {} } = {}) {
      const response = await fetch(`${url}${base}${path}`, {
        method,
        headers: {
          'user-agent': TEST_META.userAgent,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      const answer = { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
      check(method, path, answer);
      return answer;
    },
  };
}
