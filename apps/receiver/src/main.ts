#!/usr/bin/env node
import { runService } from '@shoal/service'
import pkg from '../package.json' with { type: 'json' }
import { startReceiver } from './app.js'
import { receiverFlags, resolveReceiverConfig } from './config.js'
import { receiverDoctorTargets } from './doctor.js'

await runService({
  name: 'shoal-recv',
  version: pkg.version,
  description:
    'Receives Shoal frames over UDP multicast, broadcast or unicast and prints them (JSON lines on stdout),\n' +
    'records them, or acknowledges them.',
  flags: receiverFlags,
  resolve: resolveReceiverConfig,
  start: startReceiver,
  doctor: receiverDoctorTargets,
})
