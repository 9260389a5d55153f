/** Shared by the configuration tests. */
import assert from 'node:assert/strict';
import { ConfigError } from '../src/options.js';

export /** Runs `fn` and returns the ConfigError it must throw. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.name, 'ConfigError');
    assert.equal(err.code, 'CONFIG_INVALID');
    assert.ok(err.message.startsWith(`${err.option}: `), err.message);
    return err;
  }
  assert.fail('expected a ConfigError, nothing was thrown');
}
