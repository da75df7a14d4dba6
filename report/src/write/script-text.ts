/**
 * JSON carried as classic scripts: `file://` pages can load scripts but not
 * fetch files. The JSON goes in as one string literal given to JSON.parse,
 * which V8 parses several times faster than the same data as an object
 * literal (and which keeps a `__proto__` key a key).
 */

/**
 * `text` (JSON) as a JavaScript string literal that is safe anywhere a
 * script's text can go: `</script` and `<!--` cannot close or confuse an
 * inline script, and U+2028/U+2029 are escaped for parsers older than
 * ES2019, which ended a string at them.
 */
export function jsStringLiteral(text: string): string {
  let literal = JSON.stringify(text);
  if (literal.includes('<')) literal = literal.replace(/<(?=[/!])/g, '\\u003c');
  if (/[\u2028\u2029]/.test(literal)) literal = literal.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return literal;
}

/** `window[name] = JSON.parse("…");` */
export function assignmentScript(name: string, json: string): string {
  return `window[${JSON.stringify(name)}] = JSON.parse(${jsStringLiteral(json)});\n`;
}

/** `window[name](JSON.parse("…"));` */
export function callScript(name: string, json: string): string {
  return `window[${JSON.stringify(name)}](JSON.parse(${jsStringLiteral(json)}));\n`;
}
