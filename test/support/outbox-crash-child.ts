// A process that publishes QoS 1 messages with a file store until it is killed, a few ahead of what is durable. Before each publish() it
// prints `P <id>`; for each message outbox$ reports queued (durable) `Q <id>`, acknowledged `A <id>`.
// Arguments: url, store dir, client id, topic, count.
import { say } from './child-say.js'
import { connect, fileStore } from '../../lib/node.js'


const [url = '', dir = '', clientId = '', topic = '', count = '200'] = process.argv.slice(2)
const client = connect(url, { clientId, store: fileStore(dir), reconnect: { initialDelay: 20, maxDelay: 100 } })
client.outbox$.subscribe((e) => {
  if (e.state === 'queued') say(`Q ${e.id}`)
  else if (e.state === 'acknowledged') say(`A ${e.id}`)
  else if (e.state !== 'sent') say(`X ${e.id} ${e.state}`)
})
client.status$.subscribe((s) => {
  if (s.type === 'closed') say(`E ${s.error?.name ?? 'closed'}: ${s.error?.message ?? ''}`)
})
let i = 0
let queued = 0
const total = Number(count)
/** At most a few publishes not yet durable, so that kills fall between, during and after the store's group commits. */
const more = (): void => {
  for (; i < total && i - queued < 5; i++) {
    const id = `m${i}`
    say(`P ${id}`)
    client.publish(topic, id, { qos: 1, id }).catch(() => undefined)
  }
}
client.outbox$.subscribe((e) => {
  if (e.state !== 'queued') return
  queued += 1
  setImmediate(more)
})
more()
