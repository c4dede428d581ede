// Every workflow the worker registers; the bundle is built from this file.
export { inspectHostWorkflow } from './inspect-host';
export { deployWorkflow } from './deploy/workflow';
export { scheduledDeployWorkflow } from './scheduled-deploy';
