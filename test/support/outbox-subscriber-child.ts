// A subscriber that resumes its session (clean: false, a fixed client id) and acknowledges each QoS 1/2 message
// by hand once it has handled it: handling is printing `R <topic> <payload>`. It runs until it is killed.
// Arguments: url, client id, filter.
import { say } from './child-say.js'
import { connect } from '../../lib/node.js'


const [url = '', clientId = '', filter = ''] = process.argv.slice(2)
const client = connect(url, { clientId, clean: false, sessionExpiryInterval: 300 })
client.observe(filter, { qos: 2, codec: 'text', ack: 'manual' }).subscribe((m) => {
  say(`R ${m.topic} ${m.payload}`)
  m.ack()
})
client.subscriptions$.subscribe((subs) => {
  if (subs.some((s) => s.grantedQos !== undefined)) say('S')
})
