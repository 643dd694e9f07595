import { existsSync } from 'node:fs';
import { ConfigError, type GatehouseConfig, loadConfig } from '@gatehouse/gateway';
import { UsageError } from './output.ts';

/** The file `gatehouse serve` and `gatehouse servers` read when `--config` names none. */
export const DEFAULT_CONFIG_FILE = 'gatehouse.json';

/** How the configuration file is found, for the usage of the commands that read it. */
export const CONFIG_OPTION = `  --config FILE   the configuration file (default ./${DEFAULT_CONFIG_FILE} when present);
                  every key and its default: docs/configuration.md`;

/** `--config FILE`, else `./gatehouse.json` when it exists, else none (today's behaviour: the demo). */
export function findConfigFile(explicit: string | undefined): string | undefined {
  if (explicit !== undefined) return explicit;
  return existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined;
}

/**
 * The configuration in `file`, or a UsageError listing each problem on its own line (as
 * `gatehouse config check` prints them) and how to check the file again.
 */
export function readConfigFile(file: string): GatehouseConfig {
  try {
    return loadConfig(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const count = err.issues.length === 1 ? 'a problem' : `${err.issues.length} problems`;
    throw new UsageError(
      `the configuration file has ${count}:\n${err.message}\nFix it and check it with: gatehouse config check ${file}`,
    );
  }
}
