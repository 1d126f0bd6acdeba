// A device that answers `reboot` requests: serve() subscribes to the request topic and publishes each handler's
// result to the request's response topic, with its correlation data. A handler that throws answers with the
// error, which the requester receives as a ResponderError.
import { connect, topic } from 'iotpubsub'

const url = process.env.MQTT_URL ?? 'mqtt://localhost:1883'
const root = process.env.TOPIC_ROOT ?? 'fleet'
const id = process.env.DEVICE_ID ?? 'd1'

const device = connect(url, { clientId: `${root}-${id}` })

const serving = device.serve(topic(root, id, 'rpc', 'reboot'), async (request) => {
  const { delay } = request.payload
  if (typeof delay !== 'number' || delay < 0) throw new TypeError('delay must be a number of seconds')
  if (delay > 60) throw new RangeError(`delay too long: ${delay} s (at most 60)`)
  console.log(`rebooting in ${delay} s`)
  return { rebootingIn: delay }
}, { codec: 'json' })

device.status$.subscribe((s) => {
  if (s.type === 'connected') console.log(`serving ${root}/${id}/rpc/reboot on ${s.url}`)
  if (s.type === 'closed') console.log(s.error ? `closed: ${s.error.message}` : 'closed')
})

const stop = () => {
  serving.unsubscribe()
  void device.end()
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
