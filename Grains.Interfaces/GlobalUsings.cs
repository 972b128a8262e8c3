global using Orleans;
global using Orleans.Concurrency;
global using OrleansDsm.Errors;
