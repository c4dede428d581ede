/** `composure validate`: the config file is valid, or every problem with file:line:column. */
import { loadConfig } from '../../config/load';

export function validateCommand(options: { config: string; json?: boolean }): number {
  const config = loadConfig(options.config);
  const environments = Object.keys(config.environments);
  if (options.json) {
    console.log(JSON.stringify({ valid: true, file: options.config, environments }));
  } else {
    console.log(`${options.config}: valid (environments: ${environments.join(', ')})`);
  }
  return 0;
}
