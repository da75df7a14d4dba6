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
  // indexOf is a native scan; a regex test over a long literal cost as much as the stringify.
  if (literal.indexOf('\u2028') >= 0 || literal.indexOf('\u2029') >= 0) literal = literal.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return literal;
}

/** `window[name] = JSON.parse("…");` */
export function assignmentScript(name: string, json: string): string {
  return `window[${JSON.stringify(name)}] = JSON.parse(${jsStringLiteral(json)});\n`;
}

/**
 * `window[name](<json>);`, the JSON as a literal: JSON is JavaScript (since
 * ES2019, which lets U+2028 into strings), so nothing needs escaping in a file
 * loaded by `src`, and a history's lines go in as they are. One difference:
 * an object literal's `__proto__` key sets the prototype instead of making a
 * key, so JSON that has one goes through JSON.parse instead.
 */
export function callScript(name: string, json: string): string {
  const argument = needsParse(json) ? `JSON.parse(${jsStringLiteral(json)})` : json;
  return `window[${JSON.stringify(name)}](${argument});\n`;
}

/**
 * Whether a `__proto__` key may be in the JSON: spelled plainly or with `\u`
 * escapes (`"\u005f_proto__"` is the same key to an object literal). Any
 * `\u` is enough to take the JSON.parse path: rare in histories, and cheaper
 * to scan for than to tell keys from values.
 */
export function needsParse(json: string): boolean {
  return json.includes('proto__"') || json.includes('\\u');
}
