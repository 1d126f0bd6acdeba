// Test pages for Chromium: a script bundled as an app would bundle it (esbuild, `iotpubsub` and
// `iotpubsub/shared` meaning the repository's browser entries), and a loopback HTTP server that serves each
// page and its script.
import { createServer, type ServerResponse } from 'node:http'
import { join } from 'node:path'
import { build } from 'esbuild'
import { repoDir } from '../package/package-kit.js'
import { closeServer } from './close-server.js'
import { browserAliases } from './link-under-test.js'

/** Bundles a file of the repository, or source text given as `{ code }` (resolved from the repository). */
export async function bundlePage(source: string | { code: string; name: string }): Promise<string> {
  const entry = typeof source === 'string'
    ? { entryPoints: [join(repoDir, source)] }
    : { stdin: { contents: source.code, resolveDir: repoDir, loader: 'ts' as const, sourcefile: source.name } }
  const bundle = await build({
    ...entry,
    // The browser entries, defaulting to the vitest project's link (esbuild takes the longest alias that matches).
    ...browserAliases(repoDir),
    bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent',
  })
  return bundle.outputFiles[0]?.text ?? ''
}

/** One page: its path, its script, and headers of its own (a Content Security Policy, say). */
export interface TestPage {
  readonly path: string
  readonly script: string
  readonly headers?: Readonly<Record<string, string>>
}

/** Serves each page at its path (`<script type="module" src="<path>.js">`) on 127.0.0.1, a free port. */
export async function servePages(pages: readonly TestPage[]): Promise<{ origin: string; close(): Promise<void> }> {
  const send = (response: ServerResponse, type: string, body: string, headers: Readonly<Record<string, string>> = {}): void => {
    response.setHeader('content-type', type)
    for (const [name, value] of Object.entries(headers)) response.setHeader(name, value)
    response.end(body)
  }
  const server = createServer((request, response) => {
    const url = request.url ?? '/'
    for (const page of pages) {
      const script = `${page.path === '/' ? '/app' : page.path}.js`
      if (url === script) return send(response, 'text/javascript', page.script)
      if (url === page.path || url.startsWith(`${page.path}?`)) {
        return send(response, 'text/html', `<!doctype html><title>test page</title><script type="module" src="${script}"></script>`, page.headers)
      }
    }
    response.statusCode = 404
    response.end()
  })
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', () => listening()))
  const address = server.address()
  const origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  return { origin, close: () => closeServer(server) }
}
