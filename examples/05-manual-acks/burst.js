// Publishes a burst of QoS 1 jobs as fast as the broker takes them, awaiting them in batches so that the
// publisher's own queue stays within its bounds.
import { connect } from 'iotpubsub'

const url = process.env.MQTT_URL ?? 'mqtt://localhost:1883'
const root = process.env.TOPIC_ROOT ?? 'jobs'
const count = Number(process.env.COUNT ?? 1000)

const client = connect(url, { clientId: `${root}-producer` })
const started = Date.now()
for (let seq = 0; seq < count; seq += 500) {
  const batch = []
  for (let i = seq; i < Math.min(count, seq + 500); i++) batch.push(client.publish(`${root}/queue`, { seq: i, body: 'x'.repeat(100) }, { qos: 1 }))
  await Promise.all(batch)
}
console.log(`published ${count} jobs in ${Date.now() - started} ms`)
await client.end()
