// Package msgid holds the journal MESSAGE_ID of every failure, refusal and
// security event: made once (systemd-id128 new), never changed, each
// explained in catalog/ransomeye-tuner.catalog (a test checks both sides).
package msgid

// ID is a journal MESSAGE_ID: 32 lowercase hex digits.
type ID string

const (
	// ActivationSucceeded: every guarantee holds and the gate is open.
	ActivationSucceeded ID = "903f777cb2fa423989c530e9c97803bc"
	// Disabled: ransomeye.tuner=0 on the kernel command line; nothing is guaranteed.
	Disabled ID = "bc7393b3013e4092aeb3b7bf9bc88138"
	// ConfigInvalid: the configuration cannot be used; the core is kept down.
	ConfigInvalid ID = "63a78e2d06654565a3b07eb56f4279aa"
	// SwapFailed: the swapfile cannot be provided; the core is kept down.
	SwapFailed ID = "7a91da6a53904e71a8f29b59fc8bdb1c"
	// SysctlFailed: a sysctl cannot be applied or does not read back; the core is kept down.
	SysctlFailed ID = "1571cc06f8e0423e8222f700165bffa2"
	// CPUFailed: the CPU plan cannot be guaranteed; the core is kept down.
	CPUFailed ID = "bcb328c450384cff94cefec22dc94304"
	// RecordFailed: the success record cannot be removed or written; the core is kept down.
	RecordFailed ID = "cfc4cdbdf8fb43dc816936f2f6a2a4b1"
	// FailClosed: a unit failed and fail-closed recorded it; the core is kept down.
	FailClosed ID = "261c661a9b7e419e810be478407182cd"
	// MarkerWriteFailed: no failure marker could be written; the core may start unguarded.
	MarkerWriteFailed ID = "52f2c1eb442a4c039e1857740c5970c6"
	// MarkerFallback: the marker went to the fallback location under /run.
	MarkerFallback ID = "617166fa06924244ac0ed0cfe18d3120"
	// MarkerClearFailed: a failure marker of an earlier failure cannot be removed.
	MarkerClearFailed ID = "b514f8911faf4e4a824a2b58165cd79a"
	// MarkerPlanted: security event: a marker not written by root was found and removed.
	MarkerPlanted ID = "989be666f7b8409b8343bf1bb6c85e33"
	// GateRefused: the gate kept ransomeye-core.service from starting.
	GateRefused ID = "34a864cf815e4d0185e90ce03ad0182b"
	// IsolationDegraded: the CPU isolation asked for does not hold on this platform (reported, not gated).
	IsolationDegraded ID = "b5eda07fa7524e3a8ad45e6fd52893af"
	// GateProblem: the gate cannot examine a marker location; it keeps the core down.
	GateProblem ID = "d1e775fc6b64403a8b2fb52c7912958d"
	// MemoryDegraded: a [Memory] setting does not take effect (this platform, an override, stale memory drop-ins), or the memory plan could not be made (reported, not gated).
	MemoryDegraded ID = "02c0a835f78a430a806f5acafb6a907d"
)
