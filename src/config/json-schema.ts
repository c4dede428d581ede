/**
 * composure.yml as a JSON Schema, for editors (yaml-language-server:
 * `# yaml-language-server: $schema=./schema/composure.schema.json`). Built
 * from the zod schema, so it cannot drift from what the loader accepts. It
 * describes the shape (keys, types, defaults); the value grammars and
 * cross-field rules (a pinned host key, exactly one identity) are checked by
 * the loader only.
 */
import { z } from 'zod';
import { composureSchema } from './schema';

/** A stable name, not a URL: the schema is shipped in the repository, not served. */
export const COMPOSURE_SCHEMA_ID = 'urn:composure:schema:composure.yml';

export function composureJsonSchema(): Record<string, unknown> {
  // io 'input': the file as written (durations as "30s", snake_case), not the parsed result.
  const { $schema, ...rest } = z.toJSONSchema(composureSchema, { io: 'input' });
  return {
    $schema,
    $id: COMPOSURE_SCHEMA_ID,
    title: 'composure.yml',
    description: 'Composure deployment configuration: top-level defaults, overridden per environment.',
    ...rest,
  };
}
