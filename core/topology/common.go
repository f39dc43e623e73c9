package topology

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
)

// ErrExpelled: the instance is expelled (or being expelled); it may never
// run again.
var ErrExpelled = errors.New("expelled")

// CheckClusterID refuses a request whose cluster id is not the cluster's.
// PlanJoin and PlanUpdate call it; a caller of PlanExpel calls it first.
func CheckClusterID(cluster, requested string) error {
	if requested != cluster {
		return fmt.Errorf("cluster_id mismatch: cluster_id of the instance = %q, cluster_id of the cluster = %q",
			requested, cluster)
	}
	return nil
}

// sortedInstances is a copy of the instances in name order.
func sortedInstances(is []tables.Instance) []tables.Instance {
	return slices.SortedStableFunc(slices.Values(is), func(a, b tables.Instance) int {
		return cmp.Compare(a.InstanceID, b.InstanceID)
	})
}

// normalizeFailureDomain upper-cases a requested failure domain's names and
// values. An empty name, or a name given twice in different cases, is an
// error. The result is never nil.
func normalizeFailureDomain(fd map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(fd))
	for _, k := range slices.Sorted(maps.Keys(fd)) {
		if k == "" {
			return nil, errors.New("failure domain has an empty name")
		}
		name := strings.ToUpper(k)
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("failure domain name %s is given twice", name)
		}
		out[name] = strings.ToUpper(fd[k])
	}
	return out, nil
}

// upper is a stored failure domain as it compares: upper-cased (stored
// domains already are, unless written by another path).
func upper(fd map[string]string) map[string]string {
	out := make(map[string]string, len(fd))
	for _, k := range slices.Sorted(maps.Keys(fd)) {
		out[strings.ToUpper(k)] = strings.ToUpper(fd[k])
	}
	return out
}

// namesInUse is the set of failure-domain names the non-expelled instances
// use, leaving out the one named skip.
func namesInUse(is []tables.Instance, skip string) map[string]bool {
	names := map[string]bool{}
	for _, i := range is {
		if i.Expelled() || (skip != "" && i.InstanceID == skip) {
			continue
		}
		for k := range upper(i.FailureDomain) {
			names[k] = true
		}
	}
	return names
}

// checkNames refuses a failure domain that lacks a name in use.
func checkNames(fd map[string]string, inUse map[string]bool) error {
	var missing []string
	for _, name := range slices.Sorted(maps.Keys(inUse)) {
		if _, ok := fd[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing failure domain names: %s", strings.Join(missing, ", "))
	}
	return nil
}

// shared returns the first (by name) name=value pair two upper-cased
// failure domains share.
func shared(a, b map[string]string) (string, bool) {
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if v, ok := b[k]; ok && v == a[k] {
			return k + "=" + v, true
		}
	}
	return "", false
}

// formatDomain is a failure domain as messages show it: {A=1, B=2}.
func formatDomain(fd map[string]string) string {
	parts := make([]string, 0, len(fd))
	for _, k := range slices.Sorted(maps.Keys(fd)) {
		parts = append(parts, k+"="+fd[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// gradeTuple is a grade as a _pico_instance field holds it.
func gradeTuple(g tables.Grade) []any { return []any{g.Variant, g.Incarnation} }

// domainValue is a failure domain as a _pico_instance field holds it.
func domainValue(fd map[string]string) map[string]any {
	out := make(map[string]any, len(fd))
	for k, v := range fd {
		out[k] = v
	}
	return out
}

// key is a primary key, encoded for a tables.Range. Strings and integers
// always encode.
func key(parts ...any) []byte {
	b, err := tuple.Marshal(parts)
	if err != nil {
		panic(fmt.Sprintf("topology: encoding key %v: %v", parts, err))
	}
	return b
}

// instanceKey is the range of one _pico_instance row.
func instanceKey(name string) tables.Range {
	return tables.Range{Table: tables.TablePicoInstance, Key: key(name)}
}

// wholeInstanceTable is the range of every _pico_instance row.
func wholeInstanceTable() tables.Range { return tables.Range{Table: tables.TablePicoInstance} }
