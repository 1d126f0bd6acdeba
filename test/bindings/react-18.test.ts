// iotpubsub/react on React 18: the same suite as react-19.test.ts (react-suite.ts), with 'react' mocked to
// React 18 for lib/react/ and react-dom 18 from the same copy (test/bindings/react-18/, a local package
// that npm installs with its own react and react-dom: the repository's own are 19).
import { createRequire } from 'node:module'
import { afterAll, expect, it, vi } from 'vitest'
import type * as ReactModule from 'react'
import type * as ReactDomClient from 'react-dom/client'
import '../../lib/node.js'
import { installDom } from './dom.js'
import { reactSuite } from './react-suite.js'

vi.mock('react', async () => {
  const { createRequire } = await import('node:module')
  const react = createRequire(new URL('./react-18/package.json', import.meta.url))('react') as typeof ReactModule
  return { ...react, default: react }
})

const dom = installDom()
const require18 = createRequire(new URL('./react-18/package.json', import.meta.url))
const React = require18('react') as typeof ReactModule
const { createRoot } = require18('react-dom/client') as typeof ReactDomClient
const hooks = await import('../../lib/react/index.js')
afterAll(() => dom.dispose())

it('runs on React 18, the same copy for the hooks and for react-dom', async () => {
  expect(React.version).toMatch(/^18\./)
  expect((await import('react')).version).toBe(React.version)
  expect((await import('react')).useSyncExternalStore).toBe(React.useSyncExternalStore)
})

reactSuite({ React, createRoot, hooks, dom })
