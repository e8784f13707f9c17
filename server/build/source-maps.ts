// Trims the bundle's source maps to our own sources. Node parses every map in full at load under
// --enable-source-maps, and nine tenths of a full map is node_modules; those frames keep the bundle's
// position instead, where the package's code stands unminified under a comment naming its file.

export interface SourceMapV3 {
  version: 3;
  sources: string[];
  names: string[];
  mappings: string;
  sourcesContent?: (string | null)[];
  [field: string]: unknown;
}

const DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < DIGITS.length; i += 1) VALUE[DIGITS.charCodeAt(i)] = i;

function decode(segment: string): number[] {
  const fields: number[] = [];
  let value = 0;
  let shift = 0;
  for (let i = 0; i < segment.length; i += 1) {
    const digit = VALUE[segment.charCodeAt(i)] ?? -1;
    if (digit < 0) throw new Error(`source map: bad character ${JSON.stringify(segment[i])}`);
    value += (digit & 31) * 2 ** shift;
    if (digit & 32) shift += 5;
    else {
      fields.push(value % 2 ? -(value - 1) / 2 : value / 2);
      value = 0;
      shift = 0;
    }
  }
  return fields;
}

function encode(fields: number[]): string {
  let out = '';
  for (const field of fields) {
    let value = field < 0 ? -field * 2 + 1 : field * 2;
    do {
      let digit = value & 31;
      value = Math.floor(value / 32);
      if (value > 0) digit |= 32;
      out += DIGITS[digit];
    } while (value > 0);
  }
  return out;
}

/**
 * The map with only the segments whose source `keep` accepts. Where kept code gives way to other code,
 * a segment without a source marks the rest as unmapped, so no frame there borrows a kept position.
 */
export function keepSources(map: SourceMapV3, keep: (source: string) => boolean): SourceMapV3 {
  const kept = map.sources.map(keep);
  const sourceIndex = new Map<number, number>();
  const nameIndex = new Map<number, number>();
  const sources: string[] = [];
  const names: string[] = [];
  const sourcesContent: (string | null)[] = [];
  // Running values, as the format deltas them: in the input, and in the output.
  let [source, line, column, name] = [0, 0, 0, 0];
  let [outSource, outLine, outColumn, outName] = [0, 0, 0, 0];
  let mapped = false;

  const lines = map.mappings.split(';').map((text) => {
    let generated = 0;
    let outGenerated = 0;
    const out: string[] = [];
    for (const segment of text ? text.split(',') : []) {
      const fields = decode(segment);
      generated += fields[0]!;
      let own = false;
      if (fields.length >= 4) {
        source += fields[1]!;
        line += fields[2]!;
        column += fields[3]!;
        if (fields.length >= 5) name += fields[4]!;
        own = kept[source] === true;
      }
      if (!own) {
        if (mapped) {
          out.push(encode([generated - outGenerated]));
          outGenerated = generated;
          mapped = false;
        }
        continue;
      }
      if (!sourceIndex.has(source)) {
        sourceIndex.set(source, sources.length);
        sources.push(map.sources[source]!);
        sourcesContent.push(map.sourcesContent?.[source] ?? null);
      }
      const fieldsOut = [generated - outGenerated, sourceIndex.get(source)! - outSource, line - outLine, column - outColumn];
      [outGenerated, outSource, outLine, outColumn] = [generated, sourceIndex.get(source)!, line, column];
      if (fields.length >= 5) {
        if (!nameIndex.has(name)) {
          nameIndex.set(name, names.length);
          names.push(map.names[name]!);
        }
        fieldsOut.push(nameIndex.get(name)! - outName);
        outName = nameIndex.get(name)!;
      }
      out.push(encode(fieldsOut));
      mapped = true;
    }
    return out.join(',');
  });

  return { ...map, sources, names, mappings: lines.join(';'), ...(map.sourcesContent ? { sourcesContent } : {}) };
}
