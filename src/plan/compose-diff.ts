/**
 * Which service definitions a compose file change touches: the raw YAML of
 * two versions of a compose file, compared service by service. Raw (not
 * `docker compose config`) because the target version is not checked out
 * when a plan is made; the deploy compares images afterwards anyway.
 */
import { parse as parseYaml } from 'yaml';

type Raw = Record<string, unknown>;

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value as Raw)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Raw)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function compareComposeVersions(before: string | undefined, after: string | undefined): { changedDefinitions: string[]; otherChanges: boolean } {
  const parse = (text: string | undefined): Raw => {
    const doc = text === undefined ? {} : (parseYaml(text) as unknown);
    return doc && typeof doc === 'object' ? (doc as Raw) : {};
  };
  const a = parse(before);
  const b = parse(after);
  const servicesA = (a.services ?? {}) as Raw;
  const servicesB = (b.services ?? {}) as Raw;
  const names = new Set([...Object.keys(servicesA), ...Object.keys(servicesB)]);
  const changedDefinitions = [...names].filter((n) => canonical(servicesA[n]) !== canonical(servicesB[n])).sort();
  const rest = (doc: Raw) => canonical({ ...doc, services: undefined });
  return { changedDefinitions, otherChanges: rest(a) !== rest(b) };
}
