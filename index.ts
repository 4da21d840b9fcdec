/**
 * Entry point for the Pulumi CLI (`main: bin/index.js`). The module exports a function: Pulumi's
 * Node.js runtime calls it and publishes its result as the stack outputs.
 */
import { program } from "./program";

export = program;
