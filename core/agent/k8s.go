package agent

import (
	"encoding/json"
	"regexp"
	"strings"
)

// Kubernetes names its objects after their owners: a Deployment's pods
// are <deployment>-<replicaset hash>-<5 chars>, a Job's <job>-<5 chars>.
var (
	podSuffixRE = regexp.MustCompile(`-[a-z0-9]{5}$`)
	rsHashRE    = regexp.MustCompile(`-[a-z0-9]{6,10}$`)
)

// eventObject reads a Kubernetes Event (kubectl get events -o json, one
// per line) and returns the workload it is about: "cart-service" for pod
// cart-service-dbxzp2gc5-l5jf4. An event stream is about many services,
// so its findings belong to the objects they name, not to the stream.
func eventObject(line string) (string, bool) {
	line, _, _ = strings.Cut(line, "\n")
	if !strings.HasPrefix(strings.TrimSpace(line), "{") || !strings.Contains(line, `"involvedObject"`) {
		return "", false
	}
	var ev struct {
		InvolvedObject struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"involvedObject"`
	}
	if json.Unmarshal([]byte(line), &ev) != nil || ev.InvolvedObject.Name == "" {
		return "", false
	}
	name := ev.InvolvedObject.Name
	switch ev.InvolvedObject.Kind {
	case "Pod":
		if trimmed := podSuffixRE.ReplaceAllString(name, ""); trimmed != name {
			name = rsHashRE.ReplaceAllString(trimmed, "")
			if name == "" {
				name = trimmed
			}
		}
	case "ReplicaSet":
		name = rsHashRE.ReplaceAllString(name, "")
	}
	return name, true
}
