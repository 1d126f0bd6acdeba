// A client with a file store and a persistent session (clean: false, a fixed client id) that runs until it is
// killed, telling the parent each change once its store has made it durable (`W <change> <id or packet id>`):
// the parent kills it only once the state it means to test is on disk.
// `publish`: publishes QoS 1 `q1`, QoS 2 `q2a` and `q2b` (ids and topic suffixes alike).
// `subscribe`: subscribes to <prefix>/# at QoS 2 with manual acks, prints `R <payload>` for each message and acks
// only payloads that start with `ack`.
// Arguments: mode, url, store dir, client id, topic prefix.
import { say } from './child-say.js'
import { connect, fileStore, type Store } from '../../lib/node.js'


/** `store`, saying each change once it is durable. */
function reporting(store: Store): Store {
  return {
    open: (clientId) => store.open(clientId),
    close: () => store.close(),
    write: async (change) => {
      await store.write(change)
      if (change.type === 'add') say(`W add ${change.message.id}`)
      else if (change.type === 'sent') say(`W sent ${change.id} ${change.packetId}`)
      else if (change.type === 'released' || change.type === 'remove') say(`W ${change.type} ${change.id}`)
      else if (change.type === 'sessionLost') say('W sessionLost')
      else say(`W ${change.type} ${change.packetId}`)
    },
  }
}

const [mode = '', url = '', dir = '', clientId = '', prefix = ''] = process.argv.slice(2)
const client = connect(url, { clientId, clean: false, sessionExpiryInterval: 300, store: reporting(fileStore(dir)) })
client.status$.subscribe((s) => {
  if (s.type === 'closed') say(`E ${s.error?.name ?? 'closed'}: ${s.error?.message ?? ''}`)
})
if (mode === 'publish') {
  for (const [id, qos] of [['q1', 1], ['q2a', 2], ['q2b', 2]] as const) client.publish(`${prefix}/${id}`, id, { qos, id }).catch(() => undefined)
} else {
  client.observe(`${prefix}/#`, { qos: 2, codec: 'text', ack: 'manual' }).subscribe((m) => {
    say(`R ${m.payload}`)
    if (m.payload.startsWith('ack')) m.ack()
  })
  client.subscriptions$.subscribe((subs) => {
    if (subs.some((s) => s.grantedQos !== undefined)) say('S')
  })
}
