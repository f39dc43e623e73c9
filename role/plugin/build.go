package plugin

import (
	"errors"
	"regexp"
	"runtime/debug"
)

// archEnv matches the architecture-level settings build info records
// (GOAMD64, GOARM64, GO386, …).
var archEnv = regexp.MustCompile(`^GO[A-Z0-9]+$`)

// BuildArgs returns the arguments of the go command ("build",
// "-buildmode=plugin", …, pkg) and the environment variables (KEY=VALUE,
// to add to the environment) that build package pkg into the file out as a
// plugin this binary can load: the build settings of this binary that
// change how the packages both share compile (-race, -msan, -asan,
// -trimpath, -tags, -gcflags, -asmflags, -pgo, CGO_ENABLED, GOOS, GOARCH,
// the architecture level, GOEXPERIMENT, GOFIPS140), as runtime/debug's
// build info records them. The go command must be the Go version this
// binary was built with, and pkg's module must require the very versions
// of the modules this binary was built with (the same go.sum lines);
// neither can be checked here. A binary built with -coverpkg covering a
// package the plugin shares cannot load plugins at all.
func BuildArgs(pkg, out string) (args, env []string, err error) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return nil, nil, errors.New("this binary carries no build information")
	}
	args = []string{"build", "-buildmode=plugin", "-o", out}
	for _, s := range info.Settings {
		switch {
		case s.Key == "-race" || s.Key == "-msan" || s.Key == "-asan" || s.Key == "-trimpath":
			if s.Value == "true" {
				args = append(args, s.Key)
			}
		case s.Key == "-tags" || s.Key == "-gcflags" || s.Key == "-asmflags" || s.Key == "-pgo":
			args = append(args, s.Key+"="+s.Value)
		case s.Key == "CGO_ENABLED" || s.Key == "GOOS" || s.Key == "GOARCH" || s.Key == "GOEXPERIMENT" || s.Key == "GOFIPS140":
			env = append(env, s.Key+"="+s.Value)
		case archEnv.MatchString(s.Key):
			env = append(env, s.Key+"="+s.Value)
		}
	}
	return append(args, pkg), env, nil
}
