/** The GitHub Actions example is valid YAML and deploys the pushed commit with --wait. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { parse } from 'yaml';

it('examples/github-actions-deploy.yml deploys main pushes by SHA and waits for the outcome', () => {
  const workflow = parse(readFileSync(path.resolve(__dirname, '../../examples/github-actions-deploy.yml'), 'utf8')) as {
    on: { push: { branches: string[] } };
    jobs: { deploy: { steps: Array<{ run?: string; env?: Record<string, string> }> } };
  };
  assert.deepEqual(workflow.on.push.branches, ['main']);
  const deploy = workflow.jobs.deploy.steps.find((s) => s.run?.includes(' deploy '));
  assert.ok(deploy, 'a deploy step');
  assert.match(deploy.run!, /deploy production --ref \$\{\{ github\.sha \}\} --wait/);
  for (const name of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_API_KEY', 'COMPOSURE_SSH_KEY']) {
    assert.match(deploy.env?.[name] ?? '', new RegExp(`secrets\\.${name}`), `${name} comes from repository secrets`);
  }
});
