// Simulated devices: each one is a client of its own that announces itself with a retained `online` status
// (and a last will that says `offline` if it vanishes), then publishes a temperature reading at an interval.
import { connect, topic } from 'iotpubsub'

const url = process.env.MQTT_URL ?? 'mqtt://localhost:1883'
const root = process.env.TOPIC_ROOT ?? 'plant'
const devices = Number(process.env.DEVICES ?? 3)
const intervalMs = Number(process.env.INTERVAL_MS ?? 1000)
// Readings per device before it signs off; 0 runs until Ctrl-C.
const count = Number(process.env.COUNT ?? 0)

async function device(id) {
  const status = topic(root, id, 'online')
  const client = connect(url, {
    clientId: `${root}-${id}`,
    will: { topic: status, payload: 'false', qos: 1, retain: true },
  })
  await client.publish(status, 'true', { qos: 1, retain: true })
  let sent = 0
  let celsius = 20 + devices * Math.random()
  while (!stopping && (count === 0 || sent < count)) {
    celsius += (Math.random() - 0.5) / 2
    await client.publish(topic(root, id, 'telemetry'), { celsius: Math.round(celsius * 10) / 10, at: Date.now() }, { qos: 1 })
    sent += 1
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
  // A clean sign-off: the retained status says so, and end() sends DISCONNECT, so the will is not published.
  await client.publish(status, 'false', { qos: 1, retain: true })
  await client.end()
  console.log(`${id}: sent ${sent} readings`)
}

let stopping = false
process.on('SIGINT', () => (stopping = true))
process.on('SIGTERM', () => (stopping = true))

const ids = Array.from({ length: devices }, (_, i) => `d${i + 1}`)
const results = await Promise.allSettled(ids.map(device))
for (const result of results) if (result.status === 'rejected') console.error(`device failed: ${result.reason}`)
process.exitCode = results.some((r) => r.status === 'rejected') ? 1 : 0
