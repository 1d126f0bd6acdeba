// The telemetry service: observes every device's status and readings with wildcard filters, and prints a
// summary per device every REPORT_MS. Runs until Ctrl-C (or SIGTERM), then ends the client cleanly.
import { connect } from 'iotpubsub'
import { bufferTime, filter } from 'rxjs'

const url = process.env.MQTT_URL ?? 'mqtt://localhost:1883'
const root = process.env.TOPIC_ROOT ?? 'plant'
const reportMs = Number(process.env.REPORT_MS ?? 5000)

const client = connect(url, { clientId: `${root}-monitor` })

client.status$.subscribe((s) => {
  if (s.type === 'connected') console.log(`connected to ${s.url}`)
  if (s.type === 'reconnecting') console.log(`reconnecting in ${s.delay} ms: ${s.error.message}`)
  if (s.type === 'closed') console.log(s.error ? `closed: ${s.error.name}: ${s.error.message}` : 'closed')
})
client.errors$.subscribe((error) => console.error(`${error.name}: ${error.message}`))

// The retained status: the broker sends each device's stored value first (retain: true), then live changes.
client.observe(`${root}/+/online`, { qos: 1, codec: 'json' }).subscribe((m) => {
  console.log(`${m.params[0]} ${m.payload ? 'online' : 'offline'}${m.retain ? ' (stored)' : ''}`)
})

const totals = new Map()
client
  .observe(`${root}/+/telemetry`, { qos: 1, codec: 'json' })
  .pipe(bufferTime(reportMs), filter((batch) => batch.length > 0))
  .subscribe((batch) => {
    for (const m of batch) {
      const [id] = m.params
      const total = totals.get(id) ?? { readings: 0, sum: 0 }
      total.readings += 1
      total.sum += m.payload.celsius
      totals.set(id, total)
    }
    for (const [id, total] of [...totals].sort()) {
      console.log(`${id}: ${total.readings} readings, mean ${(total.sum / total.readings).toFixed(1)} °C`)
    }
  })

console.log(`watching ${root}/+/telemetry`)

const stop = () => void client.end()
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
