// ESLint flat config: typescript-eslint's type-checked rules plus @pulumi/eslint-plugin,
// which catches pulumi.Output values interpolated into template literals.
import tseslint from "typescript-eslint";
import pulumi from "@pulumi/eslint-plugin";

export default tseslint.config(
  {
    ignores: [
      "bin/**",
      "node_modules/**",
      "policy/node_modules/**",
      "policy/bin/**",
      "coverage/**",
      "**/*.mjs",
      "**/*.cjs",
      "*.mts",
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "@pulumi": pulumi },
    rules: {
      "@pulumi/no-output-in-template-literal": "error",
      "@pulumi/no-output-instance-in-template-literal": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
    },
  },
  {
    // The policy pack resolves `spire-federation/policies` from its own node_modules (`npm ci
    // --prefix policy`), which the repository's lint does not install: linted here without type
    // information; test/policy-pack.test.ts type-checks it, packed and installed on its own.
    files: ["policy/**/*.ts"],
    ...tseslint.configs.disableTypeChecked,
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      "@pulumi/no-output-in-template-literal": "off",
      "@pulumi/no-output-instance-in-template-literal": "off",
    },
  },
  {
    // Data flows one way: components never reach into the program's tools, the policy pack or
    // the program itself; a relying party's schema never imports its component.
    files: ["components/**/*.ts"],
    ignores: ["components/**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/tools/*", "**/policy/*", "**/program"],
              message: "components must not import the program, tools or the policy pack",
            },
          ],
        },
      ],
    },
  },
  {
    files: [
      "components/federation/*/schema.ts",
      "components/federation/*/rules.ts",
      "components/nodes/schema.ts",
      "components/nodes/rules.ts",
      "components/config.ts",
      "components/model.ts",
    ],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: [
                "./component",
                "**/component",
                "../stack",
                "./stack",
                "../spire",
                "./spire",
                "./cert-manager",
              ],
              message: "the model never imports a component",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["test/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
);
