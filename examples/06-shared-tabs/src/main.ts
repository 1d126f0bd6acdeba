// Every tab of this page shares one broker connection: `connect` comes from 'iotpubsub/shared', and the tabs
// have the same URL and client id. One tab holds the connection (elected with a Web Lock); the others use it
// over a BroadcastChannel, each with the whole client API. Close the holding tab and another one takes over.
// The broker and topic root come from the page's URL (`?broker=ws://host:9001&root=tabs`).
import { connect, type LogFields } from 'iotpubsub/shared'

const params = new URLSearchParams(location.search)
const broker = params.get('broker') ?? 'ws://localhost:9001'
const root = params.get('root') ?? 'tabs'

const role = document.querySelector<HTMLElement>('#role')!
const statusLine = document.querySelector<HTMLElement>('#status')!
const feed = document.querySelector<HTMLUListElement>('#feed')!
const button = document.querySelector<HTMLButtonElement>('#publish')!
const tab = Math.random().toString(36).slice(2, 6)

// The client logs `event: 'shared'` when this tab takes the connection (with a `hub` field) or cannot share;
// a quiet logger that only listens for that tells the page which part this tab plays.
const quiet = () => {}
const logger = {
  debug: (fields: LogFields) => {
    if (fields.event === 'shared' && 'hub' in fields) role.textContent = 'holds the connection'
  },
  info: (fields: LogFields) => {
    if (fields.event === 'shared') role.textContent = 'has a connection of its own (this browser cannot share)'
  },
  warn: quiet,
  error: quiet,
}

const client = connect(broker, { clientId: `${root}-dashboard`, logger })

client.status$.subscribe((s) => {
  statusLine.textContent = s.type
  if (s.type === 'connected' && role.textContent === 'starting…') role.textContent = "uses another tab's connection"
})

client.observe<{ from: string; n: number }>(`${root}/feed`, { codec: 'json' }).subscribe((m) => {
  const item = document.createElement('li')
  item.textContent = `message ${m.payload.n} from ${m.payload.from}`
  feed.prepend(item)
})

let sent = 0
button.onclick = () => {
  sent += 1
  void client.publish(`${root}/feed`, { from: `tab ${tab}`, n: sent }, { qos: 1 })
}

window.addEventListener('pagehide', () => void client.end())
