import { createContext, createElement, useContext, useMemo, type ReactElement, type ReactNode } from 'react'
import type { MQTTClient } from '../client/api.js'
import { type StoreCache, storeCache } from './cache.js'

/** The provider's client and its stores. Immutable: the value changes only with the `client` prop. */
export const ClientContext = createContext<StoreCache | undefined>(undefined)

/**
 * Props of {@link MqttProvider}.
 *
 * @example
 * ```tsx
 * const props: MqttProviderProps = { client, children: <Dashboard /> }
 * ```
 */
export interface MqttProviderProps {
  /** The client the hooks below use when they are given no client of their own. */
  readonly client: MQTTClient
  /** The components that read topics through the provider's client. */
  readonly children?: ReactNode
}

/**
 * Makes `client` the one the hooks below it use (`useTopic(filter)`, `useStatus()`, `useClient()`), and
 * shares one store per filter, QoS and codec between the components that read it. The provider does not
 * own the client: it neither connects nor ends it.
 *
 * @example
 * ```tsx
 * const client = connect('wss://broker.example.com/mqtt', { clientId: 'dash-1' })
 * createRoot(document.getElementById('root')!).render(
 *   <MqttProvider client={client}>
 *     <Dashboard />
 *   </MqttProvider>,
 * )
 * ```
 */
export function MqttProvider({ client, children }: MqttProviderProps): ReactElement {
  const cache = useMemo(() => storeCache(client), [client])
  return createElement(ClientContext.Provider, { value: cache }, children)
}

/**
 * The client of the nearest {@link MqttProvider}, for publishing from a component. Throws when there is no
 * provider above it.
 *
 * @example
 * ```tsx
 * function Lamp() {
 *   const client = useClient()
 *   return <button onClick={() => void client.publish('lamps/desk/set', { on: true }, { qos: 1 })}>On</button>
 * }
 * ```
 */
export function useClient(): MQTTClient {
  const cache = useContext(ClientContext)
  if (!cache) throw new Error('useClient() needs an <MqttProvider client={client}> above the component')
  return cache.client
}
