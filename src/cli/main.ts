#!/usr/bin/env node
/**
 * The composure CLI: a thin layer of commander over single-purpose modules.
 * Each command returns an exit code; errors become one clear message.
 */
import { Command } from 'commander';
import { deployCommand } from './commands/deploy';
import { lockReleaseCommand, lockStatusCommand } from './commands/lock';
import { planCommand } from './commands/plan';
import { rollbackCommand } from './commands/rollback';
import { registerScheduleCommands } from './commands/schedule';
import { connectTemporal, taskQueue } from './connect';
import { abortCommand, historyCommand, statusCommand } from './commands/runs';
import { validateCommand } from './commands/validate';
import { workerCommand } from './commands/worker';
import { DEFAULT_CONFIG_FILE } from './context';
import { describeError, exitCodeFor } from './errors';

type Run = (work: () => number | Promise<number>) => Promise<void>;

export function buildProgram(run: Run): Command {
  const program = new Command('composure')
    .description('Zero-downtime deployments of Docker Compose apps, as durable Temporal workflows.')
    .option('-c, --config <file>', 'the configuration file', DEFAULT_CONFIG_FILE)
    .showHelpAfterError();
  const config = () => program.opts<{ config: string }>().config;

  program
    .command('validate')
    .description('check the configuration file; errors name file, line, column and field')
    .option('--json', 'machine-readable output')
    .action((options: { json?: boolean }) => run(() => validateCommand({ config: config(), ...options })));

  program
    .command('plan')
    .description('show what a deploy would do to each service, and why (changes nothing)')
    .argument('<environment>', 'an environment of the configuration file')
    .option('--ref <ref>', 'the git ref (branch, tag, SHA) or image tag to plan for; default: the branch head')
    .option('--json', 'machine-readable output')
    .action((environment: string, options: { ref?: string; json?: boolean }) => run(() => planCommand(environment, { config: config(), ...options })));

  const deployOptions = (command: Command) =>
    command
      .option('--wait', 'follow the deploy to its end; the exit code tells the outcome (0 ok, 3 rolled back, 4 aborted, 1 failed, 2 invalid input)')
      .option('--json', 'machine-readable events, one JSON object per line')
      .option('--attach', 'join a deploy of this environment that is already running instead of refusing')
      .option('--bake <duration>', 'new containers must stay healthy this long after the switch (e.g. 30s)');

  deployOptions(
    program
      .command('deploy')
      .description('deploy a ref with zero downtime (start-first, health gate, drain, rollback on failure)')
      .argument('<environment>', 'an environment of the configuration file')
      .option('--ref <ref>', 'the git ref (branch, tag, SHA) or image tag; default: the branch head'),
  ).action((environment: string, options: { ref?: string; wait?: boolean; json?: boolean; attach?: boolean; bake?: string }) =>
    run(() => deployCommand(environment, { config: config(), ...options })),
  );

  deployOptions(
    program
      .command('rollback')
      .description('deploy an earlier recorded release again, with zero downtime')
      .argument('<environment>', 'an environment of the configuration file')
      .option('--to <release|ref>', 'a deploy id, ref or commit from the ledger, or any ref; default: the previous release'),
  ).action((environment: string, options: { to?: string; wait?: boolean; json?: boolean; attach?: boolean; bake?: string }) =>
    run(() => rollbackCommand(environment, { config: config(), ...options })),
  );

  program
    .command('status')
    .description("a deploy's phase, per-service state and last error (the latest run of an environment, or ENV/RUN_ID)")
    .argument('<environment|run>', 'an environment, a workflow id, or either followed by /RUN_ID')
    .option('--json', 'machine-readable output')
    .action((target: string, options: { json?: boolean }) => run(() => statusCommand(target, options)));

  program
    .command('abort')
    .description('abort the running deploy of an environment: it rolls back, the previous version keeps serving')
    .argument('<environment>', 'an environment of the configuration file')
    .option('--reason <text>', 'recorded in the run and its status')
    .action((environment: string, options: { reason?: string }) => run(() => abortCommand(environment, options)));

  program
    .command('history')
    .description("an environment's deploys, from Temporal's visibility (search attributes)")
    .argument('<environment>', 'an environment of the configuration file')
    .option('--json', 'machine-readable output')
    .option('--limit <n>', 'at most this many runs', '20')
    .action((environment: string, options: { json?: boolean; limit?: string }) => run(() => historyCommand(environment, options)));

  const lock = program.command('lock').description("the host's deploy lock of an environment: who holds it, and releasing it by hand");
  lock
    .command('status')
    .description('who holds the lock (deploy, state, run, Temporal UI link) and for how long; exit 0 whether held or not')
    .argument('<environment>', 'an environment of the configuration file')
    .option('--json', 'machine-readable output')
    .action((environment: string, options: { json?: boolean }) => run(() => lockStatusCommand(environment, { config: config(), ...options })));
  lock
    .command('release')
    .description('remove the lock (e.g. after failed_compensation, once the host is checked); refused while its holder run is running')
    .argument('<environment>', 'an environment of the configuration file')
    .option('--force', 'release even while the holder run is running, or when Temporal cannot say')
    .option('--json', 'machine-readable output')
    .action((environment: string, options: { force?: boolean; json?: boolean }) => run(() => lockReleaseCommand(environment, { config: config(), ...options })));

  registerScheduleCommands(program, { configFile: config, connect: connectTemporal, taskQueue, run });

  program
    .command('worker')
    .description('run a worker: TEMPORAL_* for the connection, COMPOSURE_TASK_QUEUE, COMPOSURE_CONFIG_DIR for key paths')
    .action(() => run(() => workerCommand()));

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
