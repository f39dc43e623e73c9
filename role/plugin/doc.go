// Package plugin loads roles from Go plugins: the shared libraries in the
// folder given to the daemon with --app-dir (seeds/001: "a folder of .so
// files"). It owns finding the files, opening them with the standard
// library's plugin package, and turning whatever goes wrong into an error
// that names the file. Running the roles is package role/runner's
// business, as for compiled-in roles.
//
// # The primary way is compiled-in roles
//
// An application links its roles into its own picogo binary
// (picogo.Main(roles...)) and ships that binary. Plugins are for the case
// where the binary must stay the one picogo ships and the roles come
// separately; they work, within the limits below, all of them Go's
// (measured with go1.26 on linux/amd64; role/plugin's tests show each).
//
// The daemon loads them with `picogo run --app-dir DIR` (and
// PICOGO_APP_DIR): the roles of every *.so in DIR join the binary's own,
// and run exactly as they do; a plugin that does not load, or that defines
// a role the binary has too, fails the start (exit code 2, the reason on
// stderr). TestIntegrationRoleAppDir (package cli) builds a picogo binary
// and a plugin with the same go command and the same flags (none), runs
// the plugin's role on a real instance, and checks those failures.
//
// # Writing and building a plugin
//
// A plugin is a main package that exports a function
//
//	func Roles() []role.Role
//
// (a function: "var Roles = func() ..." exports a pointer and is refused),
// built with
//
//	go build -buildmode=plugin -o DIR/myapp.so ./cmd/myapp-roles
//
// Load opens every *.so directly in DIR, calls each Roles, and fails as a
// whole if anything is wrong: an instance runs the roles the cluster asks
// of it, or does not start.
//
// # What must match, or the plugin does not load
//
//   - The Go toolchain: the exact version that built picogo.
//   - Every package the plugin and picogo share, down to the standard
//     library: each is compiled into both and the runtime compares them at
//     load. A plugin built against another version of package role, of
//     any module picogo uses (prometheus, msgpack, …), or of the standard
//     library fails with "plugin was built with a different version of
//     package X". So the application's go.mod must require exactly the
//     versions picogo's go.mod (and go.sum) has, and a picogo upgrade
//     means rebuilding every plugin.
//   - The build flags that change how packages compile: -race, -msan,
//     -asan, -trimpath, -tags, -gcflags, -asmflags, -pgo, and CGO_ENABLED,
//     GOOS, GOARCH, GOAMD64 and the like, GOEXPERIMENT. A -trimpath or
//     -race picogo refuses a plugin built without it ("different version
//     of package internal/goarch", "… internal/runtime/sys"). BuildArgs
//     reads them from a binary's build information and gives the go build
//     command line for plugins that binary can load.
//   - Coverage: a binary built with -coverpkg covering a package the
//     plugin shares (go test -coverpkg=./...) cannot load it; plain -cover
//     of a package the plugin does not import is harmless.
//
// # What plugins cannot do
//
//   - Be unloaded. A plugin stays until the process exits: stopping its
//     roles stops their code but not the library. A new version of a
//     plugin cannot load next to the old one ("plugin already loaded": the
//     runtime knows a plugin by its main package's import path), and
//     replacing the file does not help either: opening a path again
//     returns what was loaded from it the first time, or the same failure
//     ("(previous failure)") if that failed. Upgrading or fixing a plugin
//     is a restart of the instance, like upgrading picogo; the governor's
//     rolling restart (seeds/001, "Reload cluster") is how a cluster does
//     it. Replace files by renaming a new file over the old one: writing
//     into a loaded library can crash the process.
//   - Be built or loaded without cgo: -buildmode=plugin "requires
//     external (cgo) linking", and in a picogo built with CGO_ENABLED=0
//     Load fails with "plugin: not implemented". Plugins exist on Linux,
//     macOS and FreeBSD only; elsewhere Load always fails the same way.
//   - Be small: each carries its own copy of everything it imports (about
//     13 MB for a role that imports only package role, 18 MB with DWARF).
//     Supporting them costs the loading binary too: a binary that imports
//     the standard library's plugin package (picogo does, for --app-dir)
//     keeps every exported method a plugin might call, which the linker
//     would otherwise drop — the picogo binary went from 60 MB to 79 MB
//     (go1.26, linux/amd64). Built with CGO_ENABLED=0 it is static and
//     58 MB, and --app-dir fails with "plugin: not implemented".
//   - Be isolated: a plugin's code runs in the picogo process with its
//     privileges; its package init functions run when it is opened, before
//     any role starts, and a panic there, or a goroutine it starts, is
//     outside the Runner's protection. Only trusted code belongs in the
//     app folder.
package plugin
