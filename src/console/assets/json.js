// JSON validation that says where: the input editors show the line and
// column of the first problem (the browser's JSON.parse does not always).

const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const ESCAPE = /["\\/bfnrt]|u[0-9a-fA-F]{4}/y;

/** null when `text` is one JSON value (or blank), else what is wrong and where. */
export function jsonProblem(text) {
  if (!text.trim()) return null;
  let i = 0;
  const fail = (expected) => {
    throw { at: i, expected };
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const string = () => {
    i++;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        i++;
        return;
      }
      if (c === '\\') {
        ESCAPE.lastIndex = i + 1;
        if (!ESCAPE.exec(text)) {
          i++;
          fail('an escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)');
        }
        i = ESCAPE.lastIndex;
        continue;
      }
      if (c < ' ') fail('no control character inside a string');
      i++;
    }
    fail('the closing " of a string');
  };
  const value = () => {
    space();
    const c = text[i];
    if (c === '{') {
      i++;
      space();
      if (text[i] === '}') return void i++;
      for (;;) {
        space();
        if (text[i] !== '"') fail('a property name in double quotes');
        string();
        space();
        if (text[i] !== ':') fail("':'");
        i++;
        value();
        space();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail("',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      space();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        space();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail("',' or ']'");
      }
    }
    if (c === '"') return string();
    NUMBER.lastIndex = i;
    if (NUMBER.exec(text)) return void (i = NUMBER.lastIndex);
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, i)) return void (i += literal.length);
    }
    fail('a value');
  };
  try {
    value();
    space();
    if (i < text.length) fail('the end of the text');
    return null;
  } catch (e) {
    if (!(e && 'expected' in e)) throw e;
    const before = text.slice(0, e.at);
    const line = before.split('\n').length;
    const column = e.at - before.lastIndexOf('\n');
    const found = e.at < text.length ? JSON.stringify(text[e.at]) : 'the end';
    return `expected ${e.expected}, found ${found} (line ${line}, column ${column})`;
  }
}
