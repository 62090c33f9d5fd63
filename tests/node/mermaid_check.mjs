#!/usr/bin/env node
// Parses Mermaid diagrams with Mermaid's own parser (the pinned npm package) and reports what
// it read, so tests can check both that a diagram parses and that each label shows exactly the
// intended text. One process handles a whole batch (reading mermaid takes about a second).
//
// stdin: a JSON array of diagram sources. stdout: a JSON array, one result per diagram:
//   {ok: {type, vertices: [{id, lines: [...], classes}], edges: [{start, end, dashed}],
//         classes: [...]}}  |  {error: "<parser message>"}
// `lines` are a label's lines as a reader sees them: entities decoded, <br/> split.
//
// Mermaid's parser sanitises labels with DOMPurify, which needs a DOM: jsdom provides one
// (a browser would), set up before mermaid is imported.
import { JSDOM } from 'jsdom'

const { window } = new JSDOM('')
globalThis.window = window
globalThis.document = window.document
const { default: mermaid } = await import('mermaid')

mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' })

// Mermaid keeps `#name;` / `#123;` entities as private markers until it draws; a browser then
// decodes them as HTML entities. Do the same, with a real HTML parser.
function shown(text) {
  const html = String(text)
    .replace(/ﬂ°°/g, '&#')
    .replace(/ﬂ°/g, '&')
    .replace(/¶ß/g, ';')
  return html.split(/<br\s*\/?>/i).map((part) => {
    const element = window.document.createElement('div')
    element.innerHTML = part
    return element.textContent
  })
}

async function check(source) {
  try {
    await mermaid.parse(source)
    const diagram = await mermaid.mermaidAPI.getDiagramFromText(source)
    const db = diagram.db
    return {
      ok: {
        type: diagram.type,
        vertices: [...db.getVertices().values()].map((v) => ({
          id: v.id,
          lines: shown(v.text),
          classes: v.classes,
        })),
        edges: db.getEdges().map((e) => ({
          start: e.start,
          end: e.end,
          dashed: e.stroke === 'dotted',
        })),
        classes: [...db.getClasses().keys()],
      },
    }
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) }
  }
}

let input = ''
for await (const chunk of process.stdin) input += chunk
const results = []
for (const source of JSON.parse(input)) results.push(await check(source))
process.stdout.write(JSON.stringify(results))
