/**
 * Docker Compose commands as data: pure functions returning argv arrays that a
 * transport runs elsewhere (Kamal's Commands classes are the model).
 */

export interface ComposeProject {
  /** The compose project name (`-p`), which Compose stores as a container label. */
  name: string;
  /** Compose files relative to the project directory; empty means Compose's default lookup. */
  files?: readonly string[];
}

/** `docker compose -p NAME [-f FILE]… ARGS…` */
export function compose(project: ComposeProject, ...args: string[]): string[] {
  const files = (project.files ?? []).flatMap((file) => ['-f', file]);
  return ['docker', 'compose', '-p', project.name, ...files, ...args];
}

/** Every container of the project, running or not, one JSON object per line. */
export function composePs(project: ComposeProject): string[] {
  return compose(project, 'ps', '--all', '--format', 'json');
}

/** Prints the Compose version alone, e.g. "2.29.7". */
export function composeVersion(): string[] {
  return ['docker', 'compose', 'version', '--short'];
}
