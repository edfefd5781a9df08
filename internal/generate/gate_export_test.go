package generate

// GateDropInContent is gateDropIn, for the external test that hands the
// generated gate's command line to guarantee.RunsGate (guarantee imports
// generate, so that test cannot live in this package).
var GateDropInContent = gateDropIn
