#!/usr/bin/env node
import { runService } from '@shoal/service'
import pkg from '../package.json' with { type: 'json' }
import { startSender } from './app.js'
import { resolveSenderConfig, senderFlags } from './config.js'
import { senderDoctorTargets } from './doctor.js'

await runService({
  name: 'shoal-send',
  version: pkg.version,
  description:
    'Publishes Shoal frames over UDP multicast, broadcast or unicast: simulated sensors, JSON lines,\n' +
    'replays of recordings, or raw datagrams.',
  flags: senderFlags,
  resolve: resolveSenderConfig,
  start: startSender,
  doctor: senderDoctorTargets,
})
