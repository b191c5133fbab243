// Package deploy_test checks what can be checked of deploy/ without Docker
// or a cluster: the YAML parses, the kustomizations reference files that
// exist and render (with kubectl, when its kustomize is v4 or newer), every
// faultmaven.yaml passes `faultmaven config check` with the variables its
// Deployment provides, FAULTMAVEN_* variables name real keys, the image's
// build script builds the hub and every plugin and the hub launches them,
// the dev overlay's config serves, and the alert rules and the dashboard's
// queries pass promtool and use metrics the code defines.
//
// The tests that need the binaries build them with deploy/docker/build.sh
// (what the Dockerfile runs) and are skipped with -short.
package deploy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite components/prometheus-operator/prometheusrule.yaml from prometheus/alerts.yaml")

// repoRoot is the repository root as seen from this package's directory,
// where `go test` runs.
const repoRoot = ".."

// overlays are the kustomizations an operator applies; base is rendered
// too, to check its shape.
var kustomizations = []string{"kubernetes/base", "kubernetes/overlays/dev", "kubernetes/overlays/production"}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// built runs deploy/docker/build.sh once per test binary and returns its
// output directory (faultmaven, plugins/faultmaven-plugin-<name>).
func built(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the hub and every plugin; skipped with -short")
	}
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "faultmaven-deploy-"); buildErr != nil {
			return
		}
		cmd := exec.Command("sh", "deploy/docker/build.sh", buildDir)
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("deploy/docker/build.sh: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildDir
}

// files lists the files under deploy/ whose names end in one of exts.
func files(t *testing.T, exts ...string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && slices.Contains(exts, filepath.Ext(p)) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// yamlDocs decodes every document of a YAML stream.
func yamlDocs(t *testing.T, data []byte, name string) []map[string]any {
	t.Helper()
	var docs []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEveryFileParses(t *testing.T) {
	yamls := files(t, ".yaml", ".yml")
	if len(yamls) < 10 {
		t.Fatalf("found %d YAML files under deploy/, want the manifests, rules and configs", len(yamls))
	}
	for _, p := range yamls {
		// Documents are maps, except a JSON patch file (a list of ops).
		dec := yaml.NewDecoder(bytes.NewReader(readFile(t, p)))
		n := 0
		for {
			var doc any
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Errorf("%s: %v", p, err)
				break
			}
			n++
		}
		if n == 0 {
			t.Errorf("%s: no YAML document", p)
		}
	}
	for _, p := range files(t, ".json") {
		var v map[string]any
		if err := json.Unmarshal(readFile(t, p), &v); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// kustomization is the part of kustomization.yaml that names files.
type kustomization struct {
	Resources  []string `yaml:"resources"`
	Components []string `yaml:"components"`
	Patches    []struct {
		Path string `yaml:"path"`
	} `yaml:"patches"`
	ConfigMapGenerator []struct {
		Name  string   `yaml:"name"`
		Files []string `yaml:"files"`
	} `yaml:"configMapGenerator"`
}

func loadKustomization(t *testing.T, dir string) kustomization {
	t.Helper()
	var k kustomization
	if err := yaml.Unmarshal(readFile(t, filepath.Join(dir, "kustomization.yaml")), &k); err != nil {
		t.Fatalf("%s/kustomization.yaml: %v", dir, err)
	}
	return k
}

// generatorFile returns the file of a configMapGenerator entry
// ("key=path" or "path").
func generatorFile(entry string) string {
	if _, p, ok := strings.Cut(entry, "="); ok {
		return p
	}
	return entry
}

func TestKustomizationsReferenceExistingFiles(t *testing.T) {
	var dirs []string
	for _, p := range files(t, ".yaml") {
		if filepath.Base(p) == "kustomization.yaml" {
			dirs = append(dirs, filepath.Dir(p))
		}
	}
	if len(dirs) < 4 {
		t.Fatalf("found kustomizations %v, want base, two overlays and a component", dirs)
	}
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			k := loadKustomization(t, dir)
			used := map[string]bool{"kustomization.yaml": true}
			check := func(what, rel string, wantDir bool) {
				p := filepath.Join(dir, rel)
				st, err := os.Stat(p)
				if err != nil {
					t.Errorf("%s %q: %v", what, rel, err)
					return
				}
				if wantDir || st.IsDir() {
					if _, err := os.Stat(filepath.Join(p, "kustomization.yaml")); err != nil {
						t.Errorf("%s %q: not a kustomization: %v", what, rel, err)
					}
					return
				}
				used[filepath.Clean(rel)] = true
			}
			for _, r := range k.Resources {
				check("resource", r, false)
			}
			for _, c := range k.Components {
				check("component", c, true)
			}
			for _, p := range k.Patches {
				if p.Path != "" {
					check("patch", p.Path, false)
				}
			}
			for _, g := range k.ConfigMapGenerator {
				for _, f := range g.Files {
					check("configMapGenerator "+g.Name, generatorFile(f), false)
				}
			}
			// A file beside the kustomization that it does not name is
			// probably one somebody forgot to add.
			err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(dir, p)
				if !used[rel] && (!strings.Contains(rel, "/") || strings.HasSuffix(rel, ".md")) {
					t.Errorf("%s: not referenced by %s/kustomization.yaml", rel, dir)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// configEnvNames derives every FAULTMAVEN_* variable the hub reads: one per
// key of gateway/internal/config's Config (FAULTMAVEN_<PATH>), found from
// the yaml tags by parsing the source (the package is internal, so it
// cannot be imported from here), plus the names spelled out as string
// literals in non-test code (the store's encryption key variables).
func configEnvNames(t *testing.T) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(repoRoot, "gateway/internal/config/config.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	structs := map[string]*ast.StructType{}
	ast.Inspect(f, func(n ast.Node) bool {
		if ts, ok := n.(*ast.TypeSpec); ok {
			if st, ok := ts.Type.(*ast.StructType); ok {
				structs[ts.Name.Name] = st
			}
		}
		return true
	})
	names := map[string]bool{}
	var walk func(typeName, prefix string)
	walk = func(typeName, prefix string) {
		st := structs[typeName]
		if st == nil {
			t.Fatalf("config.go: no struct %s", typeName)
		}
		for _, fld := range st.Fields.List {
			if fld.Tag == nil {
				continue
			}
			tag, _ := strconv.Unquote(fld.Tag.Value)
			key, _, _ := strings.Cut(reflect.StructTag(tag).Get("yaml"), ",")
			if key == "" || key == "-" {
				continue
			}
			name := prefix + "_" + strings.ToUpper(key)
			names[name] = true
			if id, ok := fld.Type.(*ast.Ident); ok && structs[id.Name] != nil {
				walk(id.Name, name)
			}
		}
	}
	walk("Config", "FAULTMAVEN")

	lit := regexp.MustCompile(`^"(FAULTMAVEN_[A-Z0-9_]+)"$`)
	for _, dir := range []string{"core", "gateway"} {
		err := filepath.WalkDir(filepath.Join(repoRoot, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, p, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if bl, ok := n.(*ast.BasicLit); ok && bl.Kind == token.STRING {
					if m := lit.FindStringSubmatch(bl.Value); m != nil {
						names[m[1]] = true
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Guard the derivation itself: names the README documents.
	for _, want := range []string{"FAULTMAVEN_LISTEN", "FAULTMAVEN_DATABASE_URL", "FAULTMAVEN_PLUGIN_HOST_CALL_TIMEOUT",
		"FAULTMAVEN_KNOWLEDGE_VECTOR_STORE_KIND", "FAULTMAVEN_ENCRYPTION_KEY", "FAULTMAVEN_ENCRYPTION_KEY_FILE"} {
		if !names[want] {
			t.Fatalf("derived variable names lack %s: the derivation no longer matches config.go", want)
		}
	}
	return names
}

// envNames collects the names of every env entry (a list under a key "env"
// whose items have a name) anywhere in a decoded YAML value.
func envNames(v any, into map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if list, ok := e.([]any); ok && k == "env" {
				for _, item := range list {
					if m, ok := item.(map[string]any); ok {
						if n, ok := m["name"].(string); ok {
							into[n] = true
						}
					}
				}
			}
			envNames(e, into)
		}
	case []any:
		for _, e := range x {
			envNames(e, into)
		}
	}
}

func TestFaultMavenVariablesAreRealKeys(t *testing.T) {
	valid := configEnvNames(t)
	used := map[string]bool{}
	for _, p := range files(t, ".yaml") {
		var v any
		dec := yaml.NewDecoder(bytes.NewReader(readFile(t, p)))
		for dec.Decode(&v) == nil {
			envNames(v, used)
		}
	}
	// ENV lines of the Dockerfile, and the override the docker config
	// documents.
	for _, p := range []string{"docker/Dockerfile", "docker/faultmaven.yaml"} {
		for _, m := range regexp.MustCompile(`\bFAULTMAVEN_[A-Z0-9_]+`).FindAllString(string(readFile(t, p)), -1) {
			used[m] = true
		}
	}
	var n int
	for name := range used {
		if !strings.HasPrefix(name, "FAULTMAVEN_") {
			continue
		}
		n++
		if !valid[name] {
			t.Errorf("%s is not a configuration key the hub reads (a typo is silently ignored)", name)
		}
	}
	if n == 0 {
		t.Fatal("no FAULTMAVEN_* variable found in deploy/: the walk is broken")
	}
}

// secretRefs returns the env variables and files a faultmaven.yaml names as
// secret references ({env: X} / {file: P}).
func secretRefs(v any, envs, paths map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			if e, ok := x["env"].(string); ok {
				envs[e] = true
			}
			if f, ok := x["file"].(string); ok {
				paths[f] = true
			}
		}
		for _, e := range x {
			secretRefs(e, envs, paths)
		}
	case []any:
		for _, e := range x {
			secretRefs(e, envs, paths)
		}
	}
}

// configCheck runs `faultmaven config check` on the config text with
// exactly env (plus PATH) in the environment. Secret files the config names
// are created in a temp dir and the config rewritten to point there.
func configCheck(t *testing.T, bin string, cfg []byte, env map[string]string) (string, error) {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(cfg, &v); err != nil {
		t.Fatal(err)
	}
	envs, paths := map[string]bool{}, map[string]bool{}
	secretRefs(v, envs, paths)
	dir := t.TempDir()
	text := string(cfg)
	for p := range paths {
		local := filepath.Join(dir, strings.NewReplacer("/", "_").Replace(p))
		if err := os.WriteFile(local, []byte("x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		text = strings.ReplaceAll(text, p, local)
	}
	cfgPath := filepath.Join(dir, "faultmaven.yaml")
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(bin, "faultmaven"), "config", "check", "--config", cfgPath)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, val := range env {
		cmd.Env = append(cmd.Env, k+"="+val)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestConfigFilesPassConfigCheck(t *testing.T) {
	bin := built(t)
	cases := []struct {
		file string
		env  map[string]string // beyond a dummy value for each secret env the file names
		want string            // substring of the summary
	}{
		{file: "kubernetes/base/faultmaven.yaml", want: "auth 1 users"},
		{file: "kubernetes/overlays/dev/faultmaven.yaml", want: "vector store embedded"},
		{file: "kubernetes/overlays/production/faultmaven.yaml", want: "vector store qdrant"},
		// The image's defaults need users from somewhere: the override the
		// file's comment shows.
		{file: "docker/faultmaven.yaml", env: map[string]string{
			"FAULTMAVEN_AUTH_USERS": "[{username: admin, password: {env: FM_ADMIN_PASSWORD}}]", "FM_ADMIN_PASSWORD": "x"},
			want: "listen 0.0.0.0:8080"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			cfg := readFile(t, c.file)
			var v any
			if err := yaml.Unmarshal(cfg, &v); err != nil {
				t.Fatal(err)
			}
			envs, paths := map[string]bool{}, map[string]bool{}
			secretRefs(v, envs, paths)
			env := map[string]string{}
			for e := range envs {
				env[e] = "dummy"
			}
			for k, val := range c.env {
				env[k] = val
			}
			out, err := configCheck(t, bin, cfg, env)
			if err != nil || !strings.Contains(out, c.want) {
				t.Fatalf("config check: %v\n%s\nwant a summary with %q", err, out, c.want)
			}
		})
	}

	t.Run("docker/faultmaven.yaml without users is refused", func(t *testing.T) {
		out, err := configCheck(t, bin, readFile(t, "docker/faultmaven.yaml"), nil)
		if err == nil || !strings.Contains(out, "auth.users: required") {
			t.Fatalf("config check: err %v, output %q; want the auth.users refusal", err, out)
		}
	})
}

// Rendered manifests (kubectl kustomize).

type envVar struct {
	Name      string `yaml:"name"`
	Value     string `yaml:"value"`
	ValueFrom *struct {
		SecretKeyRef *struct {
			Name string `yaml:"name"`
			Key  string `yaml:"key"`
		} `yaml:"secretKeyRef"`
	} `yaml:"valueFrom"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

type container struct {
	Name         string   `yaml:"name"`
	Image        string   `yaml:"image"`
	Args         []string `yaml:"args"`
	Env          []envVar `yaml:"env"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
	SecurityContext *struct {
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
}

type volume struct {
	Name      string         `yaml:"name"`
	EmptyDir  map[string]any `yaml:"emptyDir"`
	ConfigMap *struct {
		Name string `yaml:"name"`
	} `yaml:"configMap"`
	PersistentVolumeClaim *struct {
		ClaimName string `yaml:"claimName"`
	} `yaml:"persistentVolumeClaim"`
}

type deployment struct {
	Spec struct {
		Replicas *int `yaml:"replicas"`
		Strategy struct {
			Type string `yaml:"type"`
		} `yaml:"strategy"`
		Template struct {
			Spec struct {
				SecurityContext struct {
					RunAsNonRoot *bool `yaml:"runAsNonRoot"`
				} `yaml:"securityContext"`
				InitContainers []container `yaml:"initContainers"`
				Containers     []container `yaml:"containers"`
				Volumes        []volume    `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// rendered is one kustomization's output, by kind and name.
type rendered struct {
	objects map[string]map[string]any // "Kind/name" -> object
}

func (r rendered) get(t *testing.T, kind, namePrefix string, into any) bool {
	t.Helper()
	for key, obj := range r.objects {
		if strings.HasPrefix(key, kind+"/"+namePrefix) {
			b, err := yaml.Marshal(obj)
			if err != nil {
				t.Fatal(err)
			}
			if err := yaml.Unmarshal(b, into); err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			return true
		}
	}
	return false
}

var kustomizeVersion = regexp.MustCompile(`Kustomize Version: v(\d+)`)

// kustomize renders dir with `kubectl kustomize`, or skips the test when no
// kubectl with kustomize v4 or newer is on PATH (older ones lack the labels
// and inline patch fields the kustomizations use).
func kustomize(t *testing.T, dir string) rendered {
	t.Helper()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not on PATH: the kustomizations are not rendered")
	}
	ver, _ := exec.Command(kubectl, "version", "--client").Output()
	m := kustomizeVersion.FindSubmatch(ver)
	if m == nil {
		t.Skipf("kubectl without a kustomize version (%q): too old to render", strings.TrimSpace(string(ver)))
	}
	if major, _ := strconv.Atoi(string(m[1])); major < 4 {
		t.Skipf("kubectl's kustomize is v%s; the kustomizations need v4 or newer", m[1])
	}
	var stderr bytes.Buffer
	cmd := exec.Command(kubectl, "kustomize", dir)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl kustomize %s: %v\n%s", dir, err, stderr.String())
	}
	r := rendered{objects: map[string]map[string]any{}}
	for _, doc := range yamlDocs(t, out, dir) {
		md, _ := doc["metadata"].(map[string]any)
		r.objects[fmt.Sprint(doc["kind"], "/", md["name"])] = doc
	}
	return r
}

func TestKustomizationsRender(t *testing.T) {
	for _, dir := range kustomizations {
		t.Run(dir, func(t *testing.T) {
			r := kustomize(t, dir)
			for _, want := range []string{"Deployment/faultmaven", "Service/faultmaven", "PodDisruptionBudget/faultmaven",
				"NetworkPolicy/faultmaven", "ServiceAccount/faultmaven"} {
				if r.objects[want] == nil {
					t.Errorf("no %s in the output", want)
				}
			}
			var d deployment
			r.get(t, "Deployment", "faultmaven", &d)
			pod := d.Spec.Template.Spec
			if pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
				t.Error("pod securityContext.runAsNonRoot is not true")
			}
			all := append(slices.Clone(pod.InitContainers), pod.Containers...)
			for _, c := range all {
				sc := c.SecurityContext
				if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
					sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || !slices.Contains(sc.Capabilities.Drop, "ALL") {
					t.Errorf("container %s: want a read-only root fs, no privilege escalation, all capabilities dropped", c.Name)
				}
				mounts := map[string]string{}
				for _, vm := range c.VolumeMounts {
					mounts[vm.MountPath] = vm.Name
				}
				if mounts["/tmp"] == "" {
					t.Errorf("container %s: /tmp is not mounted (the root fs is read-only; plugins put their sockets there)", c.Name)
				}
				cfgPath := argAfter(c.Args, "--config")
				if cfgPath == "" || mounts[path.Dir(cfgPath)] != "config" {
					t.Errorf("container %s: --config %q is not in the config volume's mount", c.Name, cfgPath)
				}
				if c.Image != pod.Containers[0].Image {
					t.Errorf("container %s runs %s, the hub %s: they must be one image", c.Name, c.Image, pod.Containers[0].Image)
				}
			}
			if len(pod.InitContainers) == 0 || first(pod.InitContainers[0].Args) != "migrate" {
				t.Error("the first init container does not run migrate")
			}
			hub := pod.Containers[0]
			if first(hub.Args) != "serve" {
				t.Errorf("the hub container runs %v, want serve", hub.Args)
			}
			if hub.ReadinessProbe == nil || hub.ReadinessProbe.HTTPGet == nil || hub.ReadinessProbe.HTTPGet.Path != "/readyz" {
				t.Error("readiness probe is not GET /readyz")
			}
			if hub.LivenessProbe == nil || hub.LivenessProbe.HTTPGet == nil || hub.LivenessProbe.HTTPGet.Path != "/healthz" {
				t.Error("liveness probe is not GET /healthz")
			}
			if hub.Resources.Requests["cpu"] == "" || hub.Resources.Limits["memory"] == "" {
				t.Error("the hub container needs a CPU request (for the HPA) and a memory limit")
			}

			// The config the pod reads, checked with exactly the variables
			// the hub container gets: a password env the Deployment does
			// not provide fails here.
			var cm struct {
				Data map[string]string `yaml:"data"`
			}
			if !r.get(t, "ConfigMap", "faultmaven-config-", &cm) || cm.Data["faultmaven.yaml"] == "" {
				t.Fatal("no ConfigMap faultmaven-config-<hash> holding faultmaven.yaml")
			}
			cfg := cm.Data["faultmaven.yaml"]
			env := map[string]string{}
			for _, e := range hub.Env {
				env[e.Name] = e.Value
				if e.ValueFrom != nil {
					env[e.Name] = "from-secret"
				}
			}
			if env["FAULTMAVEN_DATABASE_URL"] != "" {
				env["FAULTMAVEN_DATABASE_URL"] = "postgres://fm@db.example:5432/fm?sslmode=require"
			}
			var conf struct {
				Knowledge struct {
					VectorStore struct {
						Kind string `yaml:"kind"`
					} `yaml:"vector_store"`
				} `yaml:"knowledge"`
			}
			if err := yaml.Unmarshal([]byte(cfg), &conf); err != nil {
				t.Fatal(err)
			}

			// Several replicas must share their state: PostgreSQL for the
			// store and the queue, Qdrant for the knowledge vectors. (base
			// is a shape, not a deployment: it is exempt.)
			var hpa struct {
				Spec struct {
					MinReplicas int `yaml:"minReplicas"`
					MaxReplicas int `yaml:"maxReplicas"`
				} `yaml:"spec"`
			}
			hasHPA := r.get(t, "HorizontalPodAutoscaler", "faultmaven", &hpa)
			replicas := 1
			if d.Spec.Replicas != nil {
				replicas = *d.Spec.Replicas
			}
			if hasHPA {
				replicas = hpa.Spec.MaxReplicas
				if d.Spec.Replicas != nil {
					t.Error("the Deployment sets replicas and an HPA scales it: every apply would reset the count")
				}
			}
			if dir != "kubernetes/base" && replicas > 1 {
				if env["FAULTMAVEN_DATABASE_URL"] == "" {
					t.Errorf("%d replicas without FAULTMAVEN_DATABASE_URL: each pod would have its own SQLite", replicas)
				}
				if conf.Knowledge.VectorStore.Kind != "qdrant" {
					t.Errorf("%d replicas with the %q vector store: each pod would have its own index", replicas, conf.Knowledge.VectorStore.Kind)
				}
			}
			if replicas == 1 && env["FAULTMAVEN_DATABASE_URL"] == "" {
				var pvc bool
				for _, v := range pod.Volumes {
					pvc = pvc || v.Name == "data" && v.PersistentVolumeClaim != nil
				}
				if !pvc || d.Spec.Strategy.Type != "Recreate" {
					t.Error("SQLite in the data dir needs the data volume on a PersistentVolumeClaim and the Recreate strategy")
				}
			}

			bin := built(t)
			out, err := configCheck(t, bin, []byte(cfg), env)
			if err != nil {
				t.Fatalf("config check of the ConfigMap with the hub container's env %v: %v\n%s", keys(env), err, out)
			}
		})
	}
}

func argAfter(args []string, flag string) string {
	if i := slices.Index(args, flag); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// pluginNames lists plugins/<name> directories that hold a main package, as
// the Makefile does.
func pluginNames(t *testing.T) []string {
	t.Helper()
	mains, err := filepath.Glob(filepath.Join(repoRoot, "plugins/*/main.go"))
	if err != nil || len(mains) == 0 {
		t.Fatalf("no plugins/*/main.go (err %v)", err)
	}
	var names []string
	for _, m := range mains {
		names = append(names, filepath.Base(filepath.Dir(m)))
	}
	return names
}

func TestDockerfile(t *testing.T) {
	df := string(readFile(t, "docker/Dockerfile"))
	gomod := string(readFile(t, filepath.Join(repoRoot, "go.mod")))
	goVer := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(gomod)
	if goVer == nil {
		t.Fatal("go.mod has no go directive")
	}
	for _, want := range []string{
		"ARG GO_VERSION=" + goVer[1] + "\n", // the build image is the go.mod's minor version
		"golang:${GO_VERSION} AS build",
		"sh deploy/docker/build.sh /out",
		"COPY --from=build /out/faultmaven /usr/local/bin/faultmaven",
		"COPY --from=build /out/plugins/ /usr/lib/faultmaven/plugins/",
		"/var/lib/faultmaven",
		"FROM gcr.io/distroless/static-debian12:nonroot",
		"USER 65532:65532",
		"EXPOSE 8080",
		`ENTRYPOINT ["/usr/local/bin/faultmaven"]`,
		`CMD ["serve", "--config", "/etc/faultmaven/faultmaven.yaml"]`,
		"COPY deploy/docker/faultmaven.yaml /etc/faultmaven/faultmaven.yaml",
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	// The image's config must agree with where the Dockerfile puts things.
	var cfg struct {
		Listen    string `yaml:"listen"`
		DataDir   string `yaml:"data_dir"`
		PluginDir string `yaml:"plugin_dir"`
	}
	if err := yaml.Unmarshal(readFile(t, "docker/faultmaven.yaml"), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.PluginDir != "/usr/lib/faultmaven/plugins" || cfg.DataDir != "/var/lib/faultmaven" || cfg.Listen != "0.0.0.0:8080" {
		t.Errorf("docker/faultmaven.yaml: %+v; want the Dockerfile's plugin and data dirs and port 8080", cfg)
	}
}

func TestImageBuildsHubAndEveryPlugin(t *testing.T) {
	bin := built(t)
	names := pluginNames(t)
	for _, n := range names {
		st, err := os.Stat(filepath.Join(bin, "plugins", "faultmaven-plugin-"+n))
		if err != nil || st.Mode().Perm()&0o111 == 0 {
			t.Errorf("plugin %s: no executable faultmaven-plugin-%s (err %v)", n, n, err)
		}
	}
	// The hub finds, verifies and launches each of them from the image's
	// plugin dir layout.
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "faultmaven.yaml")
	cfg := fmt.Sprintf("plugin_dir: %s\ndata_dir: %s\n", filepath.Join(bin, "plugins"), filepath.Join(dir, "data"))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(bin, "faultmaven"), "plugins", "list", "--config", cfgPath)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("plugins list: %v\n%s", err, out)
	}
	state := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 4 {
			state[f[0]] = f[3]
		}
	}
	for _, n := range names {
		if state[n] != "running" {
			t.Errorf("plugin %s: state %q, want running\n%s", n, state[n], out)
		}
	}
}

// TestDevOverlayServes runs the dev overlay's config the way its pod does
// (migrate, then serve, the dev password from the environment), with the
// data dir, plugin dir and port overridden by FAULTMAVEN_* variables, and
// probes it like the kubelet and Prometheus would.
func TestDevOverlayServes(t *testing.T) {
	bin := built(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "faultmaven.yaml")
	if err := os.WriteFile(cfgPath, readFile(t, "kubernetes/overlays/dev/faultmaven.yaml"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"FAULTMAVEN_DATA_DIR=" + filepath.Join(dir, "data"),
		"FAULTMAVEN_PLUGIN_DIR=" + filepath.Join(bin, "plugins"),
		"FAULTMAVEN_LISTEN=127.0.0.1:0", // auth.users stays required: the file's users come with it
		"FM_DEV_PASSWORD=dev-secret",
	}
	run := func(args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(bin, "faultmaven"), args...)
		cmd.Dir, cmd.Env = dir, env
		return cmd
	}
	if out, err := run("migrate", "--config", cfgPath).CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}

	serve := run("serve", "--config", cfgPath)
	stderr, err := serve.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	addrc := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		addrRE := regexp.MustCompile(`msg="faultmaven listening" addr=(\S+)`)
		for sc.Scan() {
			logs.WriteLine(sc.Text())
			if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
	}()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			serve.Process.Kill()
			<-done
			serve.Wait()
		}
	})
	var base string
	select {
	case a := <-addrc:
		base = "http://" + a
	case <-done:
		t.Fatalf("serve exited before listening:\n%s", logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not listen within 60s:\n%s", logs)
	}

	get := func(p string) (int, string) {
		resp, err := http.Get(base + p)
		if err != nil {
			select {
			case <-done:
				t.Fatalf("serve exited while probed (GET %s: %v):\n%s", p, err, logs)
			default:
				t.Fatalf("GET %s: %v\n%s", p, err, logs)
			}
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// Poll like the kubelet and Prometheus: /readyz turns 200 once the
	// integrations have a first health result, and each plugin's up series
	// turns 1 once its process runs.
	var wantUp []string
	for _, n := range pluginNames(t) {
		wantUp = append(wantUp, fmt.Sprintf(`faultmaven_plugin_up{plugin=%q} 1`, n))
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ready, _ := get("/readyz")
		code, metrics := get("/metrics")
		missing := slices.DeleteFunc(slices.Clone(wantUp), func(w string) bool { return strings.Contains(metrics, w) })
		if ready == http.StatusOK && code == http.StatusOK && len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30s: /readyz %d, /metrics %d lacking %v\n%s", ready, code, missing, logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz: %d, want 200", code)
	}
	if code, _ := get("/api/v1/integrations"); code != http.StatusUnauthorized {
		t.Errorf("/api/v1/integrations without a token: %d, want 401 (the dev user is required)", code)
	}
	resp, err := http.Post(base+"/api/v1/auth/login", "application/json", strings.NewReader(`{"username":"dev","password":"dev-secret"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("login as dev with FM_DEV_PASSWORD: %d, want 200", resp.StatusCode)
	}
	if _, metrics := get("/metrics"); !strings.Contains(metrics, "faultmaven_http_request_duration_seconds_count") {
		t.Error("/metrics lacks faultmaven_http_request_duration_seconds")
	}

	// What the kubelet sends on a rollout or a scale-down.
	stopped = true
	if err := serve.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-done
	if err := serve.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v, want a clean exit\n%s", err, logs)
	}
}

// syncBuffer collects a child's log lines for failure messages.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) WriteLine(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.WriteString(s + "\n")
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestProductionRunbooksIngest loads the production overlay's runbooks the
// way its kb-ingest init container does: from a directory laid out like a
// ConfigMap volume (each file a symlink into ..data, itself a symlink to a
// ..<timestamp> directory), at the path the container's args name.
func TestProductionRunbooksIngest(t *testing.T) {
	bin := built(t)
	const overlay = "kubernetes/overlays/production"
	var ops []struct {
		Value container `yaml:"value"`
	}
	if err := yaml.Unmarshal(readFile(t, filepath.Join(overlay, "kb-ingest-patch.yaml")), &ops); err != nil {
		t.Fatal(err)
	}
	if len(ops) != 1 || first(ops[0].Value.Args) != "kb" {
		t.Fatalf("kb-ingest-patch.yaml: want one op adding the kb ingest container, got %+v", ops)
	}
	c := ops[0].Value
	var mount string
	for _, vm := range c.VolumeMounts {
		if vm.Name == "runbooks" {
			mount = vm.MountPath
		}
	}
	dirArg := c.Args[2]
	if mount == "" || dirArg != mount && !strings.HasPrefix(dirArg, mount+"/") {
		t.Fatalf("kb ingest reads %q, outside the runbooks mount %q", dirArg, mount)
	}

	var runbooks []string
	for _, g := range loadKustomization(t, overlay).ConfigMapGenerator {
		if g.Name == "faultmaven-runbooks" {
			for _, f := range g.Files {
				runbooks = append(runbooks, filepath.Join(overlay, generatorFile(f)))
			}
		}
	}
	if len(runbooks) == 0 {
		t.Fatal("no faultmaven-runbooks configMapGenerator in the production overlay")
	}
	vol := filepath.Join(t.TempDir(), "runbooks")
	stamp := filepath.Join(vol, "..2026_01_01_00_00_00.000000001")
	if err := os.MkdirAll(stamp, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Base(stamp), filepath.Join(vol, "..data")); err != nil {
		t.Fatal(err)
	}
	for _, rb := range runbooks {
		name := filepath.Base(rb)
		if err := os.WriteFile(filepath.Join(stamp, name), readFile(t, rb), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(vol, name)); err != nil {
			t.Fatal(err)
		}
	}
	local := vol + strings.TrimPrefix(dirArg, mount)
	if strings.HasSuffix(dirArg, "/") {
		local += "/" // Join would drop it, and it is what makes the walk follow ..data
	}
	work := t.TempDir()
	cmd := exec.Command(filepath.Join(bin, "faultmaven"), "kb", "ingest", local, "--data-dir", filepath.Join(work, "data"))
	cmd.Dir, cmd.Env = work, []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	want := fmt.Sprintf("ingested %d documents", len(runbooks))
	if err != nil || !strings.Contains(string(out), want) {
		t.Fatalf("kb ingest %s: %v\n%s\nwant %q", local, err, out, want)
	}
}

// Prometheus rules and the dashboard.

func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not on PATH (Debian: apt-get install prometheus)")
	}
	return p
}

func TestAlertRules(t *testing.T) {
	pt := promtool(t)
	for _, args := range [][]string{{"check", "rules", "alerts.yaml"}, {"test", "rules", "alerts_test.yaml"}} {
		cmd := exec.Command(pt, args...)
		cmd.Dir = "prometheus"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// dashboardExprs returns every query of the Grafana dashboard.
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(readFile(t, "grafana/faultmaven.json"), &dash); err != nil {
		t.Fatal(err)
	}
	var exprs []string
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	if len(exprs) == 0 {
		t.Fatal("the dashboard has no queries")
	}
	return exprs
}

// TestDashboardQueriesParse hands every dashboard query, with its template
// variables filled in, to promtool as a recording rule: promtool parses it.
func TestDashboardQueriesParse(t *testing.T) {
	pt := promtool(t)
	vars := strings.NewReplacer("$job", ".*", "$instance", ".*")
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	for i, e := range dashboardExprs(t) {
		rules = append(rules, rule{Record: fmt.Sprintf("dashboard:query_%d", i), Expr: vars.Replace(e)})
	}
	b, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "dashboard.yaml")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(pt, "check", "rules", p).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules (dashboard queries): %v\n%s", err, out)
	}
}

// TestMetricNamesExist checks that every faultmaven_* series the alerts and
// the dashboard query is one the code registers.
func TestMetricNamesExist(t *testing.T) {
	defined := map[string]bool{}
	nameRE := regexp.MustCompile(`Name:\s*"(faultmaven_[a-z0-9_]+)"`)
	for _, dir := range []string{"core", "gateway"} {
		err := filepath.WalkDir(filepath.Join(repoRoot, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			b, err := os.ReadFile(p)
			for _, m := range nameRE.FindAllSubmatch(b, -1) {
				defined[string(m[1])] = true
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(defined) < 10 {
		t.Fatalf("found %d metric definitions in core/ and gateway/; the search is broken", len(defined))
	}
	used := regexp.MustCompile(`faultmaven_[a-z0-9_]+`)
	sources := map[string]string{
		"prometheus/alerts.yaml":  string(readFile(t, "prometheus/alerts.yaml")),
		"grafana/faultmaven.json": strings.Join(dashboardExprs(t), "\n"),
	}
	for src, text := range sources {
		var n int
		for _, m := range used.FindAllString(text, -1) {
			base := m
			for _, suf := range []string{"_bucket", "_count", "_sum"} {
				if trimmed, ok := strings.CutSuffix(m, suf); ok && defined[trimmed] {
					base = trimmed
				}
			}
			if !defined[base] {
				t.Errorf("%s uses %s, which no code defines", src, m)
			}
			n++
		}
		if n == 0 {
			t.Errorf("%s: no faultmaven_* metric found", src)
		}
	}
}

// TestPrometheusRule keeps the Prometheus Operator's copy of the alerts in
// step with prometheus/alerts.yaml, the source (-update rewrites it).
func TestPrometheusRule(t *testing.T) {
	const target = "kubernetes/components/prometheus-operator/prometheusrule.yaml"
	var src map[string]any
	if err := yaml.Unmarshal(readFile(t, "prometheus/alerts.yaml"), &src); err != nil {
		t.Fatal(err)
	}
	if *update {
		rule := map[string]any{
			"apiVersion": "monitoring.coreos.com/v1",
			"kind":       "PrometheusRule",
			"metadata": map[string]any{
				"name":   "faultmaven",
				"labels": map[string]any{"app.kubernetes.io/name": "faultmaven"},
			},
			"spec": map[string]any{"groups": src["groups"]},
		}
		var buf bytes.Buffer
		buf.WriteString("# Generated from deploy/prometheus/alerts.yaml by\n" +
			"# `go test ./deploy -run TestPrometheusRule -update`: edit that file, not this one.\n")
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(rule); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var got struct {
		Kind string `yaml:"kind"`
		Spec struct {
			Groups any `yaml:"groups"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(readFile(t, target), &got); err != nil {
		t.Fatal(err)
	}
	if got.Kind != "PrometheusRule" || !reflect.DeepEqual(got.Spec.Groups, src["groups"]) {
		t.Fatalf("%s differs from prometheus/alerts.yaml: run go test ./deploy -run TestPrometheusRule -update", target)
	}
}
