// Node side of the provider fast path (see imports/_fastpath.py).
//
// The jsii runtime `require`s @cdktf/provider-aws, whose lib/index.js eagerly requires all ~2,200 resource
// modules (267 MB of JavaScript with inline source maps): about 500 MB of the Node process and a second
// of start-up, for the ~60 types a synth uses. Loaded with `node --require`, this hook compiles that one
// file with each `exports.x = require("./x")` turned into a lazy getter, so a module loads the first time
// jsii asks for it. Every other file compiles untouched; with VIBERGLASS_EAGER_IMPORTS=1 the hook is not
// loaded at all, and a test checks both paths synthesize byte-identical output.
"use strict";
const Module = require("node:module");
const path = require("node:path");
const fs = require("node:fs");

const TARGET = `${path.sep}@cdktf${path.sep}provider-aws${path.sep}`;
const INDEX = `${path.sep}lib${path.sep}index.js`;
const EAGER = /^exports\.([A-Za-z_$][\w$]*) = require\("(\.\/[^"]+)"\);$/gm;
const compileJs = Module._extensions[".js"];

Module._extensions[".js"] = function lazyProviderIndex(module, filename) {
  if (!(filename.includes(TARGET) && filename.endsWith(INDEX))) {
    return compileJs(module, filename);
  }
  const source = fs.readFileSync(filename, "utf8").replace(
    EAGER,
    (_, name, target) =>
      `Object.defineProperty(exports, "${name}", { enumerable: true, configurable: true, get: () => require("${target}") });`,
  );
  return module._compile(source, filename);
};
