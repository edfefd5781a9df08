package check

import (
	"fmt"
	"strings"

	"github.com/ransomeye/ransomeye-tuner/internal/facts"
	"github.com/ransomeye/ransomeye-tuner/internal/plan"
)

// NameCPUPlan is the guarantee that the CPUs the configuration names for
// the roles ([CPU] DPICPUs=, TrainingCPUs=) are theirs on this machine.
// It is judged only when some are named; without, the CPU plan chooses and
// cpu-topology and cpu-dropins say all there is.
const NameCPUPlan = "cpu-plan"

// cpuPlanCheck judges the named CPUs against the plan made for this
// machine (ok false: none are named, or no plan was made).
func cpuPlanCheck(f *facts.Facts, p plan.Plan) (Check, bool) {
	var named, at []string
	for _, r := range f.Config.Roles() {
		if !r.CPUs.IsEmpty() {
			named = append(named, r.CPUsKey+"="+r.CPUs.String())
			at = append(at, fmt.Sprintf("%s= (%s)", r.CPUsKey, f.Config.CPUsAt[r.Name].Where()))
		}
	}
	if len(named) == 0 || !p.PlanMade {
		return Check{}, false
	}
	c := Check{Name: NameCPUPlan, Expected: "the CPUs named in the configuration (" + strings.Join(named, ", ") + "), usable here", Source: strings.Join(at, ", ")}
	if p.CPU.Refused != "" {
		c.Actual = "cannot be used here"
		c.Reason = "the CPUs named in the configuration cannot be used on this machine: " + p.CPU.Refused
		c.Remedy = fmt.Sprintf("name CPUs this machine has (ransomeye-tuner check-config checks them here), or remove the setting to let the plan choose, %s", then)
		return c, true
	}
	var sets []string
	for _, a := range p.CPU.Assignments {
		sets = append(sets, a.Role.Name+" "+a.CPUs.String())
	}
	c.OK, c.Actual = true, strings.Join(sets, ", ")
	return c, true
}
