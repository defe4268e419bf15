#!/usr/bin/env node
import { runService } from '@shoal/service'
import pkg from '../package.json' with { type: 'json' }
import { startThrottle } from './app.js'
import { resolveThrottleConfig, throttleFlags } from './config.js'
import { throttleDoctorTargets } from './doctor.js'

await runService({
  name: 'shoal-throttle',
  version: pkg.version,
  description:
    'Republishes chosen topics on another group at a lower rate, or only their latest value.\n' +
    'Subscribes to --topic on --group (input) and publishes on --out-group (output):\n' +
    '  --rate camera=2      at most 2 camera frames a second (the rest dropped)\n' +
    '  --latest gps=1       the newest gps frame once a second (older ones dropped)\n' +
    '  --unmatched drop     drop the topics no --rate or --latest names (default: pass them on)',
  flags: throttleFlags,
  resolve: resolveThrottleConfig,
  start: startThrottle,
  doctor: throttleDoctorTargets,
})
