global using Orleans;
global using OrleansDsm.Addressing;
global using OrleansDsm.Errors;
global using OrleansDsm.Regions;
