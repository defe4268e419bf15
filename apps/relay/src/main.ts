#!/usr/bin/env node
import { runService } from '@shoal/service'
import pkg from '../package.json' with { type: 'json' }
import { startRelay } from './app.js'
import { relayFlags, resolveRelayConfig } from './config.js'
import { relayDoctorTargets } from './doctor.js'

await runService({
  name: 'shoal-relay',
  version: pkg.version,
  description:
    'Forwards Shoal frames between networks: from each --in route (multicast, broadcast, UDP listen) to\n' +
    'every --out route (multicast, broadcast, unicast), filtered by topic, with loop and hop protection.\n' +
    'Routes: <scheme>://<host>[:port][?interface=..&ttl=..&source=..&allow=..&topic=..], e.g.\n' +
    '  --in multicast://239.1.1.1:7400?interface=eth0 --out unicast://10.0.0.7:7400',
  flags: relayFlags,
  resolve: resolveRelayConfig,
  start: startRelay,
  doctor: relayDoctorTargets,
})
