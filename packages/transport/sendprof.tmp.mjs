import dgram from 'node:dgram'
import { Temperature } from '@shoal/schema'
import { createPublisher } from './dist/index.js'
const rx = dgram.createSocket('udp4'); await new Promise(r => rx.bind(47999, '127.0.0.1', r)); rx.on('message', () => {})
const msg = Temperature.create({ header: { sourceId: 'bench-sensor-0', frameId: 'board', stampNs: 1700000000000000000 }, celsius: 21.5, variance: 0.01 })
console.log('bytes', Temperature.encode(msg).length)
const pub = await createPublisher({ mode: 'unicast', address: '127.0.0.1', port: 47999, interface: '127.0.0.1' })
const raw = dgram.createSocket('udp4'); await new Promise(r => raw.bind(0, '127.0.0.1', r))
const bytes = Buffer.from(Temperature.encode(msg))
const cb = (e) => {}
const big = Buffer.alloc(104)
for (const mode of ['raw', 'raw-cb', 'raw-104', 'shoal', 'raw', 'raw-cb', 'raw-104', 'shoal']) {
  const n = 300000; const t = process.hrtime.bigint()
  for (let i = 0; i < n; i++) {
    if (mode === 'raw') raw.send(bytes, 47999, '127.0.0.1')
    else if (mode === 'raw-cb') raw.send(bytes, 47999, '127.0.0.1', cb)
    else if (mode === 'raw-104') raw.send(big, 47999, '127.0.0.1')
    else if (mode === 'raw-encode') raw.send(Temperature.encode(msg), 47999, '127.0.0.1')
    else pub.send('temperature', Temperature, msg)
    if (i % 8192 === 8191) await new Promise(r => setImmediate(r))
  }
  await new Promise(r => setImmediate(r))
  console.log(mode, (n / (Number(process.hrtime.bigint() - t) / 1e9) / 1000).toFixed(0), 'k/s')
}
await pub.close(); raw.close(); rx.close()
