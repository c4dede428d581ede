#!/usr/bin/env node
/**
 * The composure CLI: a thin layer of commander over single-purpose modules.
 * Each command returns an exit code; errors become one clear message.
 */
import { Command } from 'commander';
import { planCommand } from './commands/plan';
import { validateCommand } from './commands/validate';
import { DEFAULT_CONFIG_FILE } from './context';
import { describeError, exitCodeFor } from './errors';

export function buildProgram(run: (work: () => number | Promise<number>) => Promise<void>): Command {
  const program = new Command('composure')
    .description('Zero-downtime deployments of Docker Compose apps, as durable Temporal workflows.')
    .option('-c, --config <file>', 'the configuration file', DEFAULT_CONFIG_FILE)
    .showHelpAfterError();

  program
    .command('validate')
    .description('check the configuration file; errors name file, line, column and field')
    .option('--json', 'machine-readable output')
    .action((options: { json?: boolean }) => run(() => validateCommand({ config: program.opts<{ config: string }>().config, ...options })));

  program
    .command('plan')
    .description('show what a deploy would do to each service, and why (changes nothing)')
    .argument('<environment>', 'an environment of the configuration file')
    .option('--ref <ref>', 'the git ref (branch, tag, SHA) or image tag to plan for; default: the branch head')
    .option('--json', 'machine-readable output')
    .action((environment: string, options: { ref?: string; json?: boolean }) =>
      run(() => planCommand(environment, { config: program.opts<{ config: string }>().config, ...options })),
    );

  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  let code = 0;
  const program = buildProgram(async (work) => {
    try {
      code = await work();
    } catch (err) {
      console.error(describeError(err));
      code = exitCodeFor(err);
    }
  });
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    // commander has printed its own message (unknown option, missing argument, --help).
    const exitCode = (err as { exitCode?: number }).exitCode;
    return exitCode === 0 ? 0 : 2;
  }
  return code;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(describeError(err));
      process.exit(1);
    },
  );
}
