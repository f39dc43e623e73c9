package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/runtime"
	"go.yaml.in/yaml/v3"
)

// --init-cfg: the cluster's initial configuration, Picodata's shape:
//
//	cluster:
//	  default_replication_factor: 1   # optional, default 1
//	  default_bucket_count: 3000      # optional, default 3000
//	  tiers:
//	    storage:
//	      replication_factor: 2       # optional: default_replication_factor
//	      can_vote: true              # optional, default true
//	      bucket_count: 3000          # optional: default_bucket_count
//	      replication_mode: sync      # optional, default async
//	      roles: [storage, metrics]   # optional: roles enabled on the tier
//
// replication_mode is Picodata's tier option (async | sync): a sync tier
// replicates synchronously (Tarantool's is_sync: a write returns once a
// quorum of its replicaset confirmed it). It is kept as _pico_tier's
// is_sync column (tables.Tier.IsSync).
// roles are seeds/001's: the roles the tier runs from the start (the
// binary must have them: docs/roles.md).
// It is read by an instance that has no identity yet and used only if that
// instance boots the cluster. The file is walked as a yaml.Node tree so
// that every error names the file and the line.

// initConfig is a parsed --init-cfg file.
type initConfig struct {
	// Tiers in the order the file gives them; empty when the file names
	// none (then the cluster has one tier, the instance's own).
	Tiers []tables.Tier
	// Roles are the roles the file enables, per tier.
	Roles                    []tables.RoleTier
	DefaultReplicationFactor uint64
	DefaultBucketCount       uint64
}

// loadInitCfg reads and checks an --init-cfg file.
func loadInitCfg(path string) (*initConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err // *PathError: names the file
	}
	return parseInitCfg(path, data)
}

// tiersFor is the tiers a cluster booted by an instance of tier self
// starts with: the file's, which must include self, or one tier named self
// with the file's defaults.
func (c *initConfig) tiersFor(file, self string) ([]tables.Tier, error) {
	if len(c.Tiers) == 0 {
		return []tables.Tier{{Name: self, ReplicationFactor: c.DefaultReplicationFactor, CanVote: true,
			BucketCount: c.DefaultBucketCount}}, nil
	}
	var names []string
	for _, t := range c.Tiers {
		if t.Name == self {
			return c.Tiers, nil
		}
		names = append(names, t.Name)
	}
	return nil, fmt.Errorf("%s: this instance's tier %q (--tier) is not one of the tiers it configures: %s",
		file, self, strings.Join(names, ", "))
}

// defaultTiers is the cluster's tiers without --init-cfg: one, the
// instance's own.
func defaultTiers(self string, replicationFactor uint64) []tables.Tier {
	return []tables.Tier{{Name: self, ReplicationFactor: replicationFactor, CanVote: true, BucketCount: tables.DefaultBucketCount}}
}

// The keys each mapping takes, in the order messages list them.
var (
	rootKeys    = []string{"cluster"}
	clusterKeys = []string{"default_replication_factor", "default_bucket_count", "tiers"}
	tierKeys    = []string{"replication_factor", "can_vote", "bucket_count", "replication_mode", "roles"}
	// keyHints answer the keys one would write from Picodata's
	// documentation or older picogo habits.
	keyHints = map[string]string{
		"raft_voter":  "can_vote",
		"synchronous": "replication_mode",
		"is_sync":     "replication_mode",
		"tier":        "tiers",
	}
)

// parseInitCfg parses the contents of file.
func parseInitCfg(file string, data []byte) (*initConfig, error) {
	p := cfgParser{file: file}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: the file is empty; it needs a cluster: section", file)
		}
		return nil, p.yamlError(err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, p.yamlError(err)
		}
		return nil, p.errorf(&next, "a second YAML document; the file holds one")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	c := &initConfig{DefaultReplicationFactor: 1, DefaultBucketCount: tables.DefaultBucketCount}
	var cluster *yaml.Node
	if err := p.mapping(root, "", rootKeys, func(key string, _, v *yaml.Node) error {
		cluster = v
		return nil
	}); err != nil {
		return nil, err
	}
	if cluster == nil {
		return nil, p.errorf(root, "no cluster: section")
	}
	var tiers *yaml.Node
	err := p.mapping(cluster, "cluster", clusterKeys, func(key string, _, v *yaml.Node) (err error) {
		switch key {
		case "default_replication_factor":
			c.DefaultReplicationFactor, err = p.positive(v, "cluster."+key)
		case "default_bucket_count":
			c.DefaultBucketCount, err = p.positive(v, "cluster."+key)
		case "tiers":
			tiers = v
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if tiers == nil {
		return c, nil
	}
	err = p.mapping(tiers, "cluster.tiers", nil, func(name string, k, v *yaml.Node) error {
		if strings.TrimSpace(name) == "" {
			return p.errorf(k, "a tier name must not be empty")
		}
		path := "cluster.tiers." + name
		t := tables.Tier{Name: name, ReplicationFactor: c.DefaultReplicationFactor, CanVote: true, BucketCount: c.DefaultBucketCount}
		err := p.mapping(v, path, tierKeys, func(key string, _, v *yaml.Node) (err error) {
			switch key {
			case "replication_factor":
				t.ReplicationFactor, err = p.positive(v, path+"."+key)
			case "can_vote":
				t.CanVote, err = p.boolean(v, path+"."+key)
			case "bucket_count":
				t.BucketCount, err = p.positive(v, path+"."+key)
			case "replication_mode":
				t.IsSync, err = p.replicationMode(v, path+"."+key)
			case "roles":
				var names []string
				names, err = p.names(v, path+"."+key)
				for _, r := range names {
					c.Roles = append(c.Roles, tables.RoleTier{Role: r, Tier: name})
				}
			}
			return err
		})
		c.Tiers = append(c.Tiers, t)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// cfgParser walks the node tree of one file.
type cfgParser struct{ file string }

func (p cfgParser) errorf(n *yaml.Node, format string, a ...any) error {
	return fmt.Errorf("%s:%d: %s", p.file, n.Line, fmt.Sprintf(format, a...))
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError turns the parser's "yaml: line N: ..." into "file:N: ...".
func (p cfgParser) yamlError(err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s:%s: %s", p.file, m[1], m[2])
	}
	return fmt.Errorf("%s: %s", p.file, strings.TrimPrefix(msg, "yaml: "))
}

// resolve follows an alias to what it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// describeNode names a value in a message.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!str" {
			return fmt.Sprintf("%q", n.Value)
		}
		if isNull(n) {
			return "nothing"
		}
		return n.Value
	}
	return "a value of another kind"
}

// mapping calls each for every key of the mapping n (at path; "" is the
// top level) in file order. It refuses a value that is not a mapping (an
// empty value is an empty mapping), keys that are not scalars, keys given
// twice, and — when known is not nil — keys not in known.
func (p cfgParser) mapping(n *yaml.Node, path string, known []string, each func(key string, k, v *yaml.Node) error) error {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		what := path
		if what == "" {
			what = "the file"
		}
		return p.errorf(n, "%s must be a mapping, not %s", what, describeNode(n))
	}
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return p.errorf(k, "a key of %s must be a name, not %s", orTop(path), describeNode(k))
		}
		key := k.Value
		if isNull(k) {
			key = ""
		}
		full := key
		if path != "" {
			full = path + "." + key
		}
		if known != nil && !slices.Contains(known, key) {
			hint := ""
			if h, ok := keyHints[key]; ok && slices.Contains(known, h) {
				hint = fmt.Sprintf("; picogo calls it %s", h)
			}
			return p.errorf(k, "unknown key %s%s (known keys: %s)", full, hint, strings.Join(known, ", "))
		}
		if line, dup := first[key]; dup {
			if known == nil && path == "cluster.tiers" {
				return p.errorf(k, "tier %q is given twice (first at line %d)", key, line)
			}
			return p.errorf(k, "%s is given twice (first at line %d)", full, line)
		}
		first[key] = k.Line
		if err := each(key, k, v); err != nil {
			return err
		}
	}
	return nil
}

func orTop(path string) string {
	if path == "" {
		return "the file"
	}
	return path
}

// positive reads an integer of at least 1.
func (p cfgParser) positive(n *yaml.Node, path string) (uint64, error) {
	n = resolve(n)
	var v uint64
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&v) != nil || v == 0 {
		return 0, p.errorf(n, "%s must be an integer of at least 1, not %s", path, describeNode(n))
	}
	return v, nil
}

// replicationMode reads async (false) or sync (true).
func (p cfgParser) replicationMode(n *yaml.Node, path string) (bool, error) {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		switch n.Value {
		case "async":
			return false, nil
		case "sync":
			return true, nil
		}
	}
	return false, p.errorf(n, "%s must be async or sync, not %s", path, describeNode(n))
}

// boolean reads true or false.
// names reads a list of names (roles: [a, b]).
func (p cfgParser) names(n *yaml.Node, path string) ([]string, error) {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		return nil, p.errorf(n, "%s must be a list of names, not %s", path, describeNode(n))
	}
	var out []string
	for _, item := range n.Content {
		item = resolve(item)
		if item.Kind != yaml.ScalarNode || item.Tag != "!!str" || strings.TrimSpace(item.Value) == "" {
			return nil, p.errorf(item, "%s must be a list of names, not one with %s", path, describeNode(item))
		}
		if slices.Contains(out, item.Value) {
			return nil, p.errorf(item, "%s names %s twice", path, item.Value)
		}
		out = append(out, item.Value)
	}
	return out, nil
}

func (p cfgParser) boolean(n *yaml.Node, path string) (bool, error) {
	n = resolve(n)
	var v bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&v) != nil {
		return false, p.errorf(n, "%s must be true or false, not %s", path, describeNode(n))
	}
	return v, nil
}

// initTiers is what a new instance passes as node.Config.InitTiers: the
// tiers of --init-cfg, else one tier, --tier, with
// --init-replication-factor.
func (c *runConfig) initTiers() ([]tables.Tier, error) {
	init, err := c.initCluster()
	return init.Tiers, err
}

// initCluster is the tiers (initTiers) and the roles --init-cfg enables.
func (c *runConfig) initCluster() (runtime.InitCluster, error) {
	if c.InitCfg == "" {
		return runtime.InitCluster{Tiers: defaultTiers(c.Tier, c.ReplicationFactor)}, nil
	}
	ic, err := loadInitCfg(c.InitCfg)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return runtime.InitCluster{}, fmt.Errorf("--init-cfg: %w", err)
		}
		return runtime.InitCluster{}, err
	}
	tiers, err := ic.tiersFor(c.InitCfg, c.Tier)
	return runtime.InitCluster{Tiers: tiers, Roles: ic.Roles}, err
}
