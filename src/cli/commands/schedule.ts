/**
 * `composure schedule …`: scheduled redeploys as Temporal Schedules
 * (src/client/schedule.ts). Each firing plans on the worker and runs the usual
 * deploy of the environment; a firing while a deploy runs is skipped.
 *
 * Wiring, in src/cli/main.ts's buildProgram (after the other commands):
 *
 *   import { registerScheduleCommands } from './commands/schedule';
 *   import { connectTemporal, taskQueue } from './connect';
 *   …
 *   registerScheduleCommands(program, { configFile: config, connect: connectTemporal, taskQueue, run });
 *
 * `config` is buildProgram's `() => program.opts<{ config: string }>().config`,
 * and `run` its argument: each action returns an exit code and throws on error,
 * which `run` turns into a message and an exit code.
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client } from '@temporalio/client';
import type { Command } from 'commander';
import {
  createDeploySchedule,
  deleteDeploySchedule,
  deployScheduleId,
  describeDeploySchedule,
  describeTiming,
  listDeploySchedules,
  pauseDeploySchedule,
  scheduleView,
  triggerDeploySchedule,
  unpauseDeploySchedule,
  validateScheduleId,
  type DeployScheduleView,
} from '../../client/schedule';
import { formatDuration, parseDuration } from '../../compose/duration';
import { loadEnvironment } from '../context';
import { UsageError } from '../errors';
import { ExitCode } from '../exit-codes';

export interface ScheduleCommandContext {
  configFile: () => string;
  connect: () => Promise<{ client: Client; close(): Promise<void> }>;
  taskQueue: () => string;
  run: (work: () => number | Promise<number>) => Promise<void>;
}

interface CreateOptions {
  name: string;
  cron?: string;
  every?: string;
  ref?: string;
  bake?: string;
  paused?: boolean;
  note?: string;
  json?: boolean;
}

/** Connects, runs `work`, closes; a missing or duplicate schedule is the user's input, said plainly. */
async function withClient(context: ScheduleCommandContext, scheduleId: string | undefined, work: (client: Client) => Promise<number>): Promise<number> {
  if (scheduleId !== undefined) validateScheduleId(scheduleId); // before connecting
  const { client, close } = await context.connect();
  try {
    return await work(client);
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new UsageError(`no schedule ${scheduleId ?? ''} (composure schedule list shows them)`);
    if (err instanceof ScheduleAlreadyRunning) throw new UsageError(`schedule ${scheduleId ?? ''} already exists: delete it first, or pick another --name`);
    throw err;
  } finally {
    await close();
  }
}

function what(view: DeployScheduleView): string {
  const target = view.ref ? view.ref : 'the branch head';
  const bake = view.bakeMs ? `, bake ${formatDuration(view.bakeMs)}` : '';
  return `deploy ${view.environment ?? '?'} to ${target}, ${view.timing ?? '(spec unknown)'}${bake}`;
}

function stateText(view: DeployScheduleView): string {
  return `${view.paused ? 'paused' : 'active'}${view.note ? ` (${view.note})` : ''}`;
}

export function formatScheduleLine(view: DeployScheduleView): string {
  const next = view.paused ? '' : view.nextActionTimes[0] ? `; next ${view.nextActionTimes[0]}` : '';
  const last = view.recentActions.at(-1);
  return `${view.scheduleId}  ${what(view)}  [${stateText(view)}${next}${last ? `; last ${last.takenAt}` : ''}]`;
}

export function formatScheduleDetails(view: DeployScheduleView): string {
  const lines = [`${view.scheduleId}: ${what(view)}`, `  state: ${stateText(view)}`];
  if (view.overlap) lines.push(`  overlap: ${view.overlap}; task queue: ${view.taskQueue ?? '?'}`);
  if (view.numActionsTaken !== undefined) {
    lines.push(`  runs started: ${view.numActionsTaken}; skipped while one ran: ${view.numActionsSkippedOverlap ?? 0}`);
  }
  if (!view.paused && view.nextActionTimes.length) lines.push(`  next: ${view.nextActionTimes.slice(0, 3).join(', ')}`);
  for (const running of view.runningActions ?? []) lines.push(`  running: ${running.workflowId} (${running.runId})`);
  if (view.recentActions.length) {
    lines.push('  recent runs:');
    for (const a of view.recentActions) lines.push(`    ${a.takenAt}  ${a.workflowId}`);
  }
  return lines.join('\n');
}

function durationOption(flag: string, value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as Error).message}`);
  }
}

export async function createScheduleCommand(context: ScheduleCommandContext, environment: string, options: CreateOptions): Promise<number> {
  if ((options.cron === undefined) === (options.every === undefined)) throw new UsageError('give exactly one of --cron and --every');
  const { env } = loadEnvironment(context.configFile(), environment);
  const scheduleId = deployScheduleId(env.name, options.name);
  const bakeMs = options.bake === undefined ? 0 : durationOption('--bake', options.bake);
  const timing = { cron: options.cron, every: options.every };
  const describedTiming = describeTiming(timing); // refuses a bad spec before connecting
  return withClient(context, scheduleId, async (client) => {
    await createDeploySchedule(client, { scheduleId, env, ref: options.ref, ...timing, bakeMs, taskQueue: context.taskQueue(), paused: options.paused, note: options.note });
    if (options.json) {
      console.log(JSON.stringify({ scheduleId, environment: env.name, ref: options.ref ?? null, timing: describedTiming, bakeMs, paused: options.paused ?? false }, null, 2));
    } else {
      console.log(`created ${scheduleId}: deploy ${env.name} to ${options.ref ?? 'the branch head'}, ${describedTiming}${options.paused ? ' (paused)' : ''}`);
    }
    return ExitCode.ok;
  });
}

export function registerScheduleCommands(program: Command, context: ScheduleCommandContext): Command {
  const schedule = program
    .command('schedule')
    .description('scheduled redeploys (Temporal Schedules): each firing plans and deploys like `composure deploy`; skipped while a deploy runs');

  schedule
    .command('create')
    .description('create a schedule composure-<environment>-<name>')
    .argument('<environment>', 'an environment of the configuration file')
    .requiredOption('--name <name>', 'the schedule name: lowercase letters, digits and "-"')
    .option('--cron <expression>', 'when, as cron (UTC): e.g. "0 3 * * *"')
    .option('--every <duration>', 'when, as an interval: e.g. 6h, 30m')
    .option('--ref <ref>', 'the git ref or image tag to deploy; default: the branch head at each firing')
    .option('--bake <duration>', 'new containers must stay healthy this long after the switch (e.g. 30s)')
    .option('--paused', 'create it paused')
    .option('--note <text>', 'a note on the schedule, shown by describe')
    .option('--json', 'machine-readable output')
    .action((environment: string, options: CreateOptions) => context.run(() => createScheduleCommand(context, environment, options)));

  schedule
    .command('list')
    .description("Composure's deploy schedules (Temporal's listing may lag a change by a few seconds; describe is exact)")
    .option('--env <environment>', 'only the schedules of this environment')
    .option('--json', 'machine-readable output')
    .action((options: { env?: string; json?: boolean }) =>
      context.run(() =>
        withClient(context, undefined, async (client) => {
          const views = (await listDeploySchedules(client, { environment: options.env })).map(scheduleView);
          if (options.json) console.log(JSON.stringify(views, null, 2));
          else console.log(views.length ? views.map(formatScheduleLine).join('\n') : 'no deploy schedules');
          return ExitCode.ok;
        }),
      ),
    );

  schedule
    .command('describe')
    .description('a schedule: what it deploys, when, its state and its recent runs')
    .argument('<id>', 'the schedule id, composure-<environment>-<name>')
    .option('--json', 'machine-readable output')
    .action((id: string, options: { json?: boolean }) =>
      context.run(() =>
        withClient(context, id, async (client) => {
          const view = scheduleView(await describeDeploySchedule(client, id));
          console.log(options.json ? JSON.stringify(view, null, 2) : formatScheduleDetails(view));
          return ExitCode.ok;
        }),
      ),
    );

  const simple = (name: string, description: string, act: (client: Client, id: string, note?: string) => Promise<void>, done: string, withNote: boolean) => {
    const command = schedule.command(name).description(description).argument('<id>', 'the schedule id, composure-<environment>-<name>');
    if (withNote) command.option('--note <text>', 'why (shown by describe)');
    command.action((id: string, options: { note?: string }) =>
      context.run(() =>
        withClient(context, id, async (client) => {
          await act(client, id, options.note);
          console.log(`${id}: ${done}`);
          return ExitCode.ok;
        }),
      ),
    );
  };
  simple('pause', 'stop firing until unpaused (a run already started goes on)', pauseDeploySchedule, 'paused', true);
  simple('unpause', 'fire again on the schedule', unpauseDeploySchedule, 'unpaused', true);
  simple('trigger', 'fire once now, even if paused; skipped if a deploy of the environment is running', triggerDeploySchedule, 'triggered', false);
  simple('delete', 'delete the schedule (a run already started goes on)', deleteDeploySchedule, 'deleted', false);

  return schedule;
}
