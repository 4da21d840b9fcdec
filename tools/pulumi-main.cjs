// @ts-check
/**
 * The program as the Pulumi CLI runs it (`main:` in Pulumi.yaml): rebuilds bin/ first when any
 * source or dependency changed since the last build (see tools/build.cjs), so `pulumi preview` and
 * `pulumi up` never run stale compiled code, then hands Pulumi the compiled program. A failed build
 * stops the run before anything is registered.
 */
"use strict";
require("./build.cjs").ensureBuilt();
module.exports = require("../bin/index.js");
