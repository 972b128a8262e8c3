global using OrleansDsm;
global using OrleansDsm.Addressing;
global using OrleansDsm.Arrays;
global using OrleansDsm.Errors;
global using OrleansDsm.Regions;
global using OrleansDsm.Tests.Fixtures;
