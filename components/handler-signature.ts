/**
 * The parameters a handler declares, read from its source with the TypeScript parser: only
 * parsed, never type-checked or run, so construction does not execute handler code (module
 * scope may call AWS or read secrets). Lambda's Node.js 24 runtime refuses a handler whose
 * `length` is 3 or more (a callback-style `(event, context, callback)`); this reads the same
 * count from the source.
 *
 * Followed: `export function` / `export const` (arrow or function expression), `export { x
 * as handler }`, re-exports and imports from relative modules, `exports.x =`,
 * `module.exports.x =`, `module.exports = { x }` (shorthand, property or method). Anything
 * else (a wrapper's result such as `middy(fn)`, a package's export) is unknown.
 */
import * as fs from "fs";
import type * as TypeScript from "typescript";

type Ts = typeof TypeScript;
type Node = TypeScript.Node;

/** The source file a relative import names, from the importing file; undefined for packages. */
export type ModuleResolver = (fromFile: string, specifier: string) => string | undefined;

/** The parser, from the project's own `typescript` (every TypeScript Pulumi project has one). */
function loadTypeScript(): Ts | undefined {
  try {
    return require("typescript") as Ts;
  } catch {
    return undefined;
  }
}

/**
 * The names of the parameters `Function.length` counts for export `exportName` of `file`
 * (those before the first default or rest parameter, without a TypeScript `this`), or
 * undefined when the source does not show them.
 */
export function declaredParameters(file: string, exportName: string, resolve: ModuleResolver): string[] | undefined {
  const ts = loadTypeScript();
  return ts && new SignatureReader(ts, resolve).exported(file, exportName, 0);
}

/** How many modules and local bindings are followed before giving up (cycles, long chains). */
const MAX_DEPTH = 8;

class SignatureReader {
  constructor(private readonly ts: Ts, private readonly resolve: ModuleResolver) {}

  exported(file: string, exportName: string, depth: number): string[] | undefined {
    if (depth > MAX_DEPTH) return undefined;
    const ts = this.ts;
    const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true, scriptKind(ts, file));
    const scope = new ModuleScope(ts, source, (specifier) => this.resolve(file, specifier));
    // The last statement that exports the name decides: CommonJS assigns again (tsc first
    // writes `exports.handler = void 0`); an ES module exports a name once.
    let parameters: string[] | undefined;
    for (const statement of source.statements) {
      const found = this.exportIn(statement, exportName, scope, depth);
      if (found !== NOT_HERE) parameters = found;
    }
    return parameters;
  }

  /** The parameters if `statement` exports `exportName`; NOT_HERE when it does not export it. */
  private exportIn(statement: Node, exportName: string, scope: ModuleScope, depth: number): string[] | undefined | typeof NOT_HERE {
    const ts = this.ts;
    if (ts.isFunctionDeclaration(statement) && statement.name?.text === exportName && isExported(ts, statement)) {
      return this.parameters(statement);
    }
    if (ts.isVariableStatement(statement) && isExported(ts, statement)) {
      const declaration = statement.declarationList.declarations.find((d) => ts.isIdentifier(d.name) && d.name.text === exportName);
      if (declaration) return declaration.initializer ? this.value(declaration.initializer, scope, depth) : undefined;
    }
    if (ts.isExportDeclaration(statement) && !statement.isTypeOnly) {
      const target = statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier) ? scope.resolve(statement.moduleSpecifier.text) : undefined;
      if (!statement.exportClause) {
        // `export * from "./x"`: the name is there or not at all.
        return target ? this.exported(target, exportName, depth + 1) ?? NOT_HERE : NOT_HERE;
      }
      if (ts.isNamedExports(statement.exportClause)) {
        const specifier = statement.exportClause.elements.find((e) => e.name.text === exportName);
        if (!specifier) return NOT_HERE;
        const local = (specifier.propertyName ?? specifier.name).text;
        if (statement.moduleSpecifier) return target ? this.exported(target, local, depth + 1) : undefined;
        return this.binding(local, scope, depth + 1);
      }
    }
    if (ts.isExpressionStatement(statement) && ts.isBinaryExpression(statement.expression) && statement.expression.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
      const { left, right } = statement.expression;
      if (ts.isPropertyAccessExpression(left) && left.name.text === exportName && isCommonJsExports(ts, left.expression)) return this.value(right, scope, depth);
      if (isModuleExports(ts, left) && ts.isObjectLiteralExpression(right)) {
        for (const property of right.properties) {
          if (!property.name || propertyName(ts, property.name) !== exportName) continue;
          if (ts.isShorthandPropertyAssignment(property)) return this.binding(exportName, scope, depth + 1);
          if (ts.isPropertyAssignment(property)) return this.value(property.initializer, scope, depth);
          if (ts.isMethodDeclaration(property)) return this.parameters(property);
          return undefined;
        }
      }
    }
    return NOT_HERE;
  }

  /** The parameters of an expression that is (or names) a function. */
  private value(expression: TypeScript.Expression, scope: ModuleScope, depth: number): string[] | undefined {
    const ts = this.ts;
    let inner: TypeScript.Expression = expression;
    while (ts.isParenthesizedExpression(inner) || ts.isAsExpression(inner) || ts.isTypeAssertionExpression(inner) || ts.isSatisfiesExpression(inner)) {
      inner = inner.expression;
    }
    if (ts.isArrowFunction(inner) || ts.isFunctionExpression(inner)) return this.parameters(inner);
    if (ts.isIdentifier(inner)) return this.binding(inner.text, scope, depth + 1);
    return undefined;
  }

  /** The parameters of a module-level name: a function, a const holding one, or an import. */
  private binding(name: string, scope: ModuleScope, depth: number): string[] | undefined {
    if (depth > MAX_DEPTH) return undefined;
    const ts = this.ts;
    const declaration = scope.declarations.get(name);
    if (declaration && ts.isFunctionDeclaration(declaration)) return this.parameters(declaration);
    if (declaration && ts.isVariableDeclaration(declaration)) return declaration.initializer ? this.value(declaration.initializer, scope, depth) : undefined;
    const imported = scope.imports.get(name);
    const target = imported && scope.resolve(imported.from);
    return target ? this.exported(target, imported.name, depth + 1) : undefined;
  }

  /** What `Function.length` counts: parameters before the first default or rest, no `this`. */
  private parameters(fn: TypeScript.SignatureDeclarationBase): string[] {
    const names: string[] = [];
    for (const parameter of fn.parameters) {
      if (this.ts.isIdentifier(parameter.name) && parameter.name.text === "this") continue;
      if (parameter.initializer || parameter.dotDotDotToken) break;
      names.push(parameter.name.getText());
    }
    return names;
  }
}

const NOT_HERE = Symbol("not exported by this statement");

/** A module's top-level functions and variables, its imports, and how it resolves relative modules. */
class ModuleScope {
  readonly declarations = new Map<string, TypeScript.FunctionDeclaration | TypeScript.VariableDeclaration>();
  readonly imports = new Map<string, { from: string; name: string }>();

  constructor(ts: Ts, source: TypeScript.SourceFile, readonly resolve: (specifier: string) => string | undefined) {
    for (const statement of source.statements) {
      if (ts.isFunctionDeclaration(statement) && statement.name) this.declarations.set(statement.name.text, statement);
      if (ts.isVariableStatement(statement)) {
        for (const declaration of statement.declarationList.declarations) {
          if (ts.isIdentifier(declaration.name)) this.declarations.set(declaration.name.text, declaration);
        }
      }
      const bindings = ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier) ? statement.importClause?.namedBindings : undefined;
      if (bindings && ts.isNamedImports(bindings)) {
        const from = (statement as TypeScript.ImportDeclaration).moduleSpecifier as TypeScript.StringLiteral;
        for (const element of bindings.elements) this.imports.set(element.name.text, { from: from.text, name: (element.propertyName ?? element.name).text });
      }
    }
  }
}

function scriptKind(ts: Ts, file: string): TypeScript.ScriptKind {
  return /\.[cm]?ts$/.test(file) ? ts.ScriptKind.TS : ts.ScriptKind.JS;
}

function isExported(ts: Ts, node: TypeScript.FunctionDeclaration | TypeScript.VariableStatement): boolean {
  return (ts.getModifiers(node) ?? []).some((modifier) => modifier.kind === ts.SyntaxKind.ExportKeyword);
}

function isModuleExports(ts: Ts, node: Node): boolean {
  return ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "module" && node.name.text === "exports";
}

/** `exports` or `module.exports`. */
function isCommonJsExports(ts: Ts, node: Node): boolean {
  return (ts.isIdentifier(node) && node.text === "exports") || isModuleExports(ts, node);
}

function propertyName(ts: Ts, name: TypeScript.PropertyName): string | undefined {
  return ts.isIdentifier(name) || ts.isStringLiteral(name) ? name.text : undefined;
}
