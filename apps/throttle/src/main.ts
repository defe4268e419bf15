#!/usr/bin/env node
import { runService } from '@shoal/service'
import pkg from '../package.json' with { type: 'json' }
import { startThrottle } from './app.js'
import { resolveThrottleConfig, throttleFlags } from './config.js'

await runService({
  name: 'shoal-throttle',
  version: pkg.version,
  description:
    'Republishes chosen topics on another group at a lower rate, or only their latest value\n' +
    'Subscribes to --topic on --group (input) and publishes on --out-group (output).',
  flags: throttleFlags,
  resolve: resolveThrottleConfig,
  start: startThrottle,
})
