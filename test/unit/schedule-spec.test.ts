/** Deploy schedules without a server: ids, the spec (cron or every, exactly one), the ref, and the options sent to Temporal. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { InvalidValueError } from '../../src/commands/validate';
import type { EnvironmentConfig } from '../../src/config/types';
import {
  deployScheduleId,
  deployScheduleOptions,
  deployScheduleSpec,
  describeTiming,
  scheduledWorkflowIdPrefix,
  validateScheduleId,
  validateScheduleRef,
} from '../../src/client/schedule';
import { searchAttributes } from '../../src/messages';
import { envConfig as baseEnvConfig } from '../support/env-config';

/** The shared fixture environment, named as these schedule ids expect. */
const envConfig = (overrides: Partial<EnvironmentConfig> = {}): EnvironmentConfig => baseEnvConfig({ name: 'prod', ...overrides });

const invalid = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (err: unknown) => err instanceof InvalidValueError && pattern.test(err.message));

describe('schedule ids', () => {
  test('composure-<env>-<name>, lowercase letters, digits and single dashes', () => {
    assert.equal(deployScheduleId('prod', 'nightly'), 'composure-prod-nightly');
    assert.equal(deployScheduleId('eu-west', 'every-6h'), 'composure-eu-west-every-6h');
    assert.equal(validateScheduleId('composure-prod-nightly'), 'composure-prod-nightly');
  });

  test('bad ids are refused with the rule', () => {
    for (const id of [
      'prod-nightly', // no prefix
      'composure-prod', // no name
      'composure-Prod-nightly', // uppercase
      'composure-prod_nightly', // underscore
      'composure-prod--nightly', // empty part
      'composure-prod-nightly-', // trailing dash
      'composure-prod-night ly',
      'composure-prod-nightly\n',
      `composure-prod-${'x'.repeat(100)}`,
      '',
    ]) {
      invalid(() => validateScheduleId(id), /schedule id/);
    }
  });

  test('an environment or name that cannot be part of an id is named', () => {
    invalid(() => deployScheduleId('Prod_EU', 'nightly'), /environment name "Prod_EU": cannot be part of a schedule id/);
    invalid(() => deployScheduleId('prod', 'Nightly'), /schedule name "Nightly"/);
    invalid(() => deployScheduleId('prod', ''), /schedule name/);
    invalid(() => deployScheduleId('prod', '-x'), /schedule name/);
  });

  test('the runs are named after environment and schedule; the id must belong to the environment', () => {
    assert.equal(scheduledWorkflowIdPrefix('composure-prod-nightly', 'prod'), 'composure-scheduled-prod-nightly');
    assert.equal(scheduledWorkflowIdPrefix('composure-eu-west-nightly', 'eu-west'), 'composure-scheduled-eu-west-nightly');
    invalid(() => scheduledWorkflowIdPrefix('composure-staging-nightly', 'prod'), /composure-prod-<name>/);
    invalid(() => scheduledWorkflowIdPrefix('composure-prod-', 'prod'), /schedule id/);
  });
});

describe('schedule spec', () => {
  test('cron or every', () => {
    assert.deepEqual(deployScheduleSpec({ cron: '0 3 * * *' }), { cronExpressions: ['0 3 * * *'] });
    assert.deepEqual(deployScheduleSpec({ cron: '@daily' }), { cronExpressions: ['@daily'] });
    assert.deepEqual(deployScheduleSpec({ cron: 'CRON_TZ=Europe/Paris 0 3 * * MON-FRI' }), { cronExpressions: ['CRON_TZ=Europe/Paris 0 3 * * MON-FRI'] });
    assert.deepEqual(deployScheduleSpec({ every: '5s' }), { intervals: [{ every: 5_000 }] });
    assert.deepEqual(deployScheduleSpec({ every: '1h30m' }), { intervals: [{ every: 5_400_000 }] });
    assert.equal(describeTiming({ every: '90m' }), 'every 1h30m');
    assert.equal(describeTiming({ cron: '0 3 * * *' }), 'cron 0 3 * * *');
  });

  test('exactly one of them', () => {
    invalid(() => deployScheduleSpec({}), /exactly one of cron .* or every/);
    invalid(() => deployScheduleSpec({ cron: '0 3 * * *', every: '1h' }), /exactly one of cron .* or every/);
  });

  test('a bad interval or cron is refused before reaching Temporal', () => {
    invalid(() => deployScheduleSpec({ every: 'soon' }), /interval "soon"/);
    invalid(() => deployScheduleSpec({ every: '500ms' }), /whole seconds, at least 1s/);
    invalid(() => deployScheduleSpec({ every: '1.5s' }), /whole seconds/);
    invalid(() => deployScheduleSpec({ every: '0s' }), /at least 1s/);
    invalid(() => deployScheduleSpec({ cron: '0 3 *' }), /5 to 7 fields/);
    invalid(() => deployScheduleSpec({ cron: '' }), /5 to 7 fields/);
    invalid(() => deployScheduleSpec({ cron: '0 3 * * *\n0 4 * * *' }), /control character/);
  });
});

describe('schedule ref', () => {
  test('checked like plan --ref; an image source needs one', () => {
    validateScheduleRef(envConfig(), undefined);
    validateScheduleRef(envConfig(), 'v2');
    validateScheduleRef(envConfig(), 'a'.repeat(40));
    invalid(() => validateScheduleRef(envConfig(), '--upload-pack=x'), /git ref/);
    invalid(() => validateScheduleRef(envConfig(), 'main..evil'), /git ref/);
    const images = envConfig({ source: { kind: 'image', variable: 'TAG' } });
    validateScheduleRef(images, '1.4.2');
    invalid(() => validateScheduleRef(images, undefined), /needs the tag to deploy/);
    invalid(() => validateScheduleRef(images, 'a/b'), /image tag/);
  });
});

describe('schedule options', () => {
  test('SKIP overlap, the scheduled workflow with its arguments, environment attribute and memo', () => {
    const env = envConfig();
    const options = deployScheduleOptions({ scheduleId: 'composure-prod-nightly', env, ref: 'v2', cron: '0 3 * * *', bakeMs: 30_000, taskQueue: 'composure' });
    assert.equal(options.scheduleId, 'composure-prod-nightly');
    assert.deepEqual(options.spec, { cronExpressions: ['0 3 * * *'] });
    assert.equal(options.policies?.overlap, ScheduleOverlapPolicy.SKIP);
    assert.equal(options.action.workflowType, 'scheduledDeployWorkflow');
    assert.equal(options.action.workflowId, 'composure-scheduled-prod-nightly');
    assert.equal(options.action.taskQueue, 'composure');
    assert.deepEqual(options.action.args, [{ env, ref: 'v2', bakeMs: 30_000, scheduleId: 'composure-prod-nightly' }]);
    assert.deepEqual(options.action.typedSearchAttributes, [{ key: searchAttributes.environment, value: 'prod' }]);
    assert.deepEqual(options.memo, { environment: 'prod', ref: 'v2', timing: 'cron 0 3 * * *', bakeMs: 30_000 });
    assert.deepEqual(options.state, { paused: false });
    // No secret travels: the key is the reference the config holds.
    assert.doesNotMatch(JSON.stringify(options), /PRIVATE KEY/);
  });

  test('no ref: the branch head at each firing; paused with a note; another overlap on request', () => {
    const options = deployScheduleOptions({
      scheduleId: 'composure-prod-hourly',
      env: envConfig(),
      every: '1h',
      bakeMs: 0,
      taskQueue: 'q',
      paused: true,
      note: 'until Monday',
      overlap: ScheduleOverlapPolicy.BUFFER_ONE,
    });
    assert.equal('ref' in (options.action.args[0] as object), false);
    assert.equal(options.memo?.ref, '');
    assert.equal(options.policies?.overlap, ScheduleOverlapPolicy.BUFFER_ONE);
    assert.deepEqual(options.state, { paused: true, note: 'until Monday' });
  });

  test('refuses a schedule id of another environment, a bad spec or a negative bake', () => {
    const base = { env: envConfig(), every: '1h', bakeMs: 0, taskQueue: 'q' };
    invalid(() => deployScheduleOptions({ ...base, scheduleId: 'composure-staging-nightly' }), /composure-prod-<name>/);
    invalid(() => deployScheduleOptions({ ...base, scheduleId: 'composure-prod-x', cron: '@daily' }), /exactly one/);
    invalid(() => deployScheduleOptions({ ...base, scheduleId: 'composure-prod-x', bakeMs: -1 }), /bake/);
  });
});
