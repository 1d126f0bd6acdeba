// A service that calls a device: request() publishes with a response topic of its own and random correlation
// data, and resolves with the matching reply, or rejects with a typed error.
import { connect, topic, RequestTimeoutError, ResponderError } from 'iotpubsub'

const url = process.env.MQTT_URL ?? 'mqtt://localhost:1883'
const root = process.env.TOPIC_ROOT ?? 'fleet'
const id = process.env.DEVICE_ID ?? 'd1'

const service = connect(url, { clientId: `${root}-service` })
const reboot = topic(root, id, 'rpc', 'reboot')

for (const delay of [5, 90]) {
  try {
    const reply = await service.request(reboot, { delay }, { codec: 'json', timeout: 2_000 })
    console.log(`${id} reboots in ${reply.payload.rebootingIn} s`)
  } catch (error) {
    if (error instanceof ResponderError) console.log(`${id} refused: ${error.remoteName}: ${error.message}`)
    else if (error instanceof RequestTimeoutError) console.log(`${id} did not answer: ${error.message}`)
    else throw error
  }
}

// Many requests at once: each reply finds its request by its correlation data.
const replies = await Promise.all([1, 2, 3, 4, 5].map((delay) => service.request(reboot, { delay }, { codec: 'json', timeout: 2_000 })))
console.log(`answered in order: ${replies.map((r) => r.payload.rebootingIn).join(', ')}`)

await service.end()
