// A slow consumer: each message is acknowledged only once it has been handled (ack: 'manual' and
// acknowledge()), one at a time. Until then the client reads nothing more, so a burst waits at the broker
// instead of in this process's memory. A persistent session (clean: false, a fixed client id) keeps what was
// not acknowledged if the process stops, and the broker delivers it again on the next start.
import { acknowledge, connect } from 'iotpubsub'

const url = process.env.MQTT_URL ?? 'mqtt://localhost:1883'
const root = process.env.TOPIC_ROOT ?? 'jobs'
const workMs = Number(process.env.WORK_MS ?? 2)
// Stop after this many jobs (0: run until Ctrl-C).
const expect = Number(process.env.EXPECT ?? 0)

const client = connect(url, { clientId: `${root}-worker`, clean: false })
client.errors$.subscribe((error) => console.error(`${error.name}: ${error.message}`))

const heapAtStart = process.memoryUsage().heapUsed
let handled = 0
let last = -1
let outOfOrder = 0

/** The work: stands in for a database insert or a call to another service. */
async function handle(job) {
  await new Promise((resolve) => setTimeout(resolve, workMs))
  if (job.seq !== last + 1) outOfOrder += 1
  last = job.seq
  handled += 1
  if (handled % 500 === 0) {
    const heapMiB = (process.memoryUsage().heapUsed - heapAtStart) / 2 ** 20
    console.log(`handled ${handled}, heap ${heapMiB >= 0 ? '+' : ''}${heapMiB.toFixed(1)} MiB`)
  }
  if (expect > 0 && handled === expect) {
    console.log(`done: ${handled} jobs, ${outOfOrder === 0 ? 'in order' : `${outOfOrder} out of order`}`)
    void client.end()
  }
}

client
  .observe(`${root}/queue`, { qos: 1, ack: 'manual', codec: 'json' })
  .pipe(acknowledge((m) => handle(m.payload)))
  .subscribe({ error: (error) => console.error(`stopped: ${error.message}`) })

client.subscriptions$.subscribe((subs) => {
  if (subs.some((s) => s.grantedQos !== undefined)) console.log(`ready: ${root}/queue`)
})

process.on('SIGINT', () => void client.end())
process.on('SIGTERM', () => void client.end())
