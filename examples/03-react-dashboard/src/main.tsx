// The dashboard of example 02 in React: the list of devices comes from their retained online status, and each
// device card reads its own telemetry topic with useTopic. However many cards read a topic, and whatever
// StrictMode does, the client subscribes once per filter. The broker and topic root come from the page's URL
// (`?broker=ws://host:9001&root=plant`).
import { StrictMode, useMemo } from 'react'
import { createRoot } from 'react-dom/client'
import { connect } from 'iotpubsub'
import { MqttProvider, useClient, useMessages, useStatus, useTopic } from 'iotpubsub/react'

const params = new URLSearchParams(location.search)
const broker = params.get('broker') ?? 'ws://localhost:9001'
const root = params.get('root') ?? 'plant'

// The client lives outside React: made once, ended when the page goes.
const client = connect(broker)
window.addEventListener('pagehide', () => void client.end())

function StatusLine() {
  const status = useStatus()
  const text = status.type === 'reconnecting' ? `reconnecting: ${status.error.message}` : status.type === 'closed' && status.error ? `closed: ${status.error.message}` : status.type
  return <p className="status">{text}</p>
}

function Device({ id, online }: { id: string; online: boolean }) {
  const reading = useTopic<{ celsius: number }>(`${root}/${id}/telemetry`, { codec: 'json' })
  return (
    <li data-device={id}>
      <strong>{id}</strong> <span className="online">{online ? 'online' : 'offline'}</span>{' '}
      <span className="celsius">{reading ? `${reading.payload.celsius.toFixed(1)} °C` : '…'}</span>
    </li>
  )
}

function Devices() {
  // Every status message, retained ones first: the latest per device decides whether it is online.
  const statuses = useMessages<boolean>(`${root}/+/online`, { codec: 'json', limit: 1000 })
  const devices = useMemo(() => {
    const latest = new Map<string, boolean>()
    for (const m of statuses) latest.set(m.params[0]!, m.payload)
    return [...latest].sort(([a], [b]) => a.localeCompare(b))
  }, [statuses])
  return <ul>{devices.map(([id, online]) => <Device key={id} id={id} online={online} />)}</ul>
}

function Identify() {
  const mqtt = useClient()
  return <button onClick={() => void mqtt.publish(`${root}/all/cmd`, { command: 'identify' }, { qos: 1 })}>Ask every device to identify itself</button>
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MqttProvider client={client}>
      <h1>Plant</h1>
      <StatusLine />
      <Devices />
      <Identify />
    </MqttProvider>
  </StrictMode>,
)
